//! Saving and loading a trained model as a [safetensors] file.
//!
//! # File format
//!
//! A safetensors file: an 8-byte little-endian header length, a JSON header, then the raw
//! tensor bytes. Any safetensors reader (Python's `safetensors`, `candle`, …) can open it.
//!
//! * Tensors, all `F32` (little-endian), named as [`Vae::named_parameters`] names them:
//!   `encoder.{i}.weight` with shape `[fan_in, fan_out]` (note: the transpose of PyTorch's
//!   `nn.Linear.weight`), `encoder.{i}.bias` with shape `[fan_out]`, and the same for
//!   `decoder.{i}`, layers numbered from the input side.
//! * Metadata (`__metadata__`, string → string): `format` = `elbo-vae`, `version` = `1`,
//!   `input_dim`, `hidden` (comma-separated encoder widths, e.g. `512,256`; the decoder mirrors
//!   them), `latent`, `activation` (`relu`, `elu`, `tanh`, `identity`), `mode` (`vae` or
//!   `autoencoder`), `seed` (of the initialization).
//!
//! Writing is atomic: the bytes go to a temporary file in the same directory, which is flushed to
//! disk and then renamed over the destination, so a crash never leaves a half-written model.
//! Loading checks everything (metadata, names, dtypes, shapes) and reports the first problem.
//!
//! ```
//! use elbo::vae::{Vae, VaeConfig};
//! let vae = Vae::<f32>::new(VaeConfig { hidden: vec![16], latent: 2, ..VaeConfig::default() }).unwrap();
//! let path = std::env::temp_dir().join(format!("elbo-doc-{}.safetensors", std::process::id()));
//! vae.save(&path).unwrap();
//! assert_eq!(Vae::load(&path).unwrap(), vae); // bit-for-bit
//! # std::fs::remove_file(&path).unwrap();
//! ```
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use super::config::{Mode, VaeConfig};
use super::error::VaeError;
use super::model::Vae;
use super::ops::Activation;
use safetensors::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `format` metadata value of a VAE checkpoint.
pub const FORMAT: &str = "elbo-vae";
/// The `version` metadata value this code writes and reads.
pub const VERSION: &str = "1";

/// Files larger than this are refused before being read (the largest valid model, 2³⁰
/// parameters, is 4 GiB).
const MAX_FILE_BYTES: u64 = (4 << 30) + (64 << 20);

/// Why a checkpoint could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Not a valid safetensors file (truncated, corrupt header, bad offsets…).
    #[error("{path}: not a valid safetensors file: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the safetensors parser said.
        message: String,
    },
    /// The metadata does not describe an `elbo-vae` model this code can read.
    #[error("{path}: metadata `{key}`: {problem}")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// The metadata key.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A tensor is missing, unexpected, of the wrong dtype or of the wrong shape.
    #[error("{path}: tensor `{name}`: {problem}")]
    Tensor {
        /// The file.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The file holds a model of another architecture than the one asked for.
    #[error("{path}: the file holds {found:?}, not the expected {expected:?}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The architecture asked for.
        expected: Box<VaeConfig>,
        /// The architecture in the file.
        found: Box<VaeConfig>,
    },
}

/// One `F32` tensor ready for serialization.
struct F32Tensor {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &F32Tensor {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

impl Vae<f32> {
    /// The model as safetensors bytes (see the [module docs](self) for the layout).
    pub fn to_safetensors(&self) -> Vec<u8> {
        let c = self.config();
        let hidden: Vec<String> = c.hidden.iter().map(usize::to_string).collect();
        let metadata: HashMap<String, String> = [
            ("format", FORMAT.to_string()),
            ("version", VERSION.to_string()),
            ("input_dim", c.input_dim.to_string()),
            ("hidden", hidden.join(",")),
            ("latent", c.latent.to_string()),
            ("activation", c.activation.name().to_string()),
            ("mode", c.mode.name().to_string()),
            ("seed", c.seed.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let tensors: Vec<(String, F32Tensor)> = self
            .named_parameters()
            .into_iter()
            .map(|(name, t)| {
                let bytes = t.iter().flat_map(|v| v.to_le_bytes()).collect();
                (
                    name,
                    F32Tensor {
                        shape: t.shape().to_vec(),
                        bytes,
                    },
                )
            })
            .collect();
        safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
            .expect("well-formed tensors always serialize")
    }

    /// Reads a model from safetensors bytes; `path` only labels errors.
    pub fn from_safetensors(
        bytes: &[u8],
        path: impl AsRef<Path>,
    ) -> Result<Vae<f32>, CheckpointError> {
        let path = path.as_ref();
        let st = SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::Corrupt {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| CheckpointError::Corrupt {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        let empty = HashMap::new();
        let meta = header.metadata().as_ref().unwrap_or(&empty);
        let meta_err = |key: &str, problem: String| CheckpointError::Metadata {
            path: path.to_owned(),
            key: key.to_string(),
            problem,
        };
        let get = |key: &str| -> Result<&str, CheckpointError> {
            meta.get(key)
                .map(String::as_str)
                .ok_or_else(|| meta_err(key, "missing (is this an elbo-vae checkpoint?)".into()))
        };
        let number = |key: &str| -> Result<usize, CheckpointError> {
            let v = get(key)?;
            v.parse()
                .map_err(|_| meta_err(key, format!("`{v}` is not a non-negative integer")))
        };
        if get("format")? != FORMAT {
            return Err(meta_err(
                "format",
                format!("`{}` is not `{FORMAT}`", get("format")?),
            ));
        }
        if get("version")? != VERSION {
            return Err(meta_err(
                "version",
                format!(
                    "version `{}` is not supported (only `{VERSION}`)",
                    get("version")?
                ),
            ));
        }
        let hidden_str = get("hidden")?;
        let hidden = if hidden_str.is_empty() {
            Vec::new()
        } else {
            hidden_str
                .split(',')
                .map(|w| w.trim().parse::<usize>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    meta_err("hidden", format!("`{hidden_str}` is not a list of widths"))
                })?
        };
        let activation = Activation::from_name(get("activation")?).ok_or_else(|| {
            meta_err(
                "activation",
                format!("unknown activation `{}`", get("activation").unwrap_or("")),
            )
        })?;
        let mode = Mode::from_name(get("mode")?).ok_or_else(|| {
            meta_err(
                "mode",
                format!("unknown mode `{}`", get("mode").unwrap_or("")),
            )
        })?;
        let seed = match meta.get("seed") {
            Some(s) => s
                .parse()
                .map_err(|_| meta_err("seed", format!("`{s}` is not an integer")))?,
            None => 0,
        };
        let config = VaeConfig {
            input_dim: number("input_dim")?,
            hidden,
            latent: number("latent")?,
            activation,
            mode,
            seed,
        };
        // Check the architecture before building anything: its widths, its size, and that the
        // file is large enough to hold its tensors (4 bytes per parameter) — so metadata
        // claiming a huge model costs no memory beyond the file itself.
        config.validate().map_err(|e| {
            let key = match &e {
                VaeError::ZeroWidth { what } => {
                    what.split('[').next().unwrap_or("hidden").to_string()
                }
                _ => "hidden".to_string(),
            };
            meta_err(&key, e.to_string())
        })?;
        let needed = config.num_parameters().saturating_mul(4);
        if needed > bytes.len() {
            return Err(meta_err(
                "input_dim, hidden, latent",
                format!(
                    "the architecture {:?} has {} parameters ({needed} bytes of F32), more than the \
                     whole file ({} bytes)",
                    config.encoder_sizes(),
                    config.num_parameters(),
                    bytes.len()
                ),
            ));
        }
        let mut vae =
            Vae::<f32>::new(config).map_err(|e: VaeError| meta_err("hidden", e.to_string()))?;
        let tensor_err = |name: &str, problem: String| CheckpointError::Tensor {
            path: path.to_owned(),
            name: name.to_string(),
            problem,
        };
        let expected: Vec<(String, Vec<usize>)> = vae
            .named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.shape().to_vec()))
            .collect();
        for name in st.names() {
            if !expected.iter().any(|(n, _)| n == name) {
                return Err(tensor_err(
                    name,
                    "not a parameter of this architecture".into(),
                ));
            }
        }
        for ((name, shape), dst) in expected.iter().zip(vae.parameter_slices_mut()) {
            let t = st
                .tensor(name)
                .map_err(|_| tensor_err(name, "missing".into()))?;
            if t.dtype() != Dtype::F32 {
                return Err(tensor_err(
                    name,
                    format!("dtype {:?}, expected F32", t.dtype()),
                ));
            }
            if t.shape() != shape.as_slice() {
                return Err(tensor_err(
                    name,
                    format!("shape {:?}, expected {shape:?}", t.shape()),
                ));
            }
            for (d, b) in dst.iter_mut().zip(t.data().chunks_exact(4)) {
                *d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
        Ok(vae)
    }

    /// Saves the model to `path` atomically (temporary file in the same directory, flushed, then
    /// renamed over `path`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        let path = path.as_ref();
        let io = |source| CheckpointError::Io {
            path: path.to_owned(),
            source,
        };
        let name = path.file_name().ok_or_else(|| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a file name",
            ))
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&self.to_safetensors())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    /// Loads a model saved by [`save`](Self::save).
    pub fn load(path: impl AsRef<Path>) -> Result<Vae<f32>, CheckpointError> {
        let path = path.as_ref();
        let io = |source| CheckpointError::Io {
            path: path.to_owned(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_FILE_BYTES {
            return Err(CheckpointError::Corrupt {
                path: path.to_owned(),
                message: format!("{len} bytes is larger than any model this crate writes"),
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Vae::from_safetensors(&bytes, path)
    }

    /// Loads a model and checks that it has the architecture `expected` (e.g. a notebook's
    /// cached model still matches its knobs).
    pub fn load_expecting(
        path: impl AsRef<Path>,
        expected: &VaeConfig,
    ) -> Result<Vae<f32>, CheckpointError> {
        let vae = Vae::load(&path)?;
        if vae.config() != expected {
            return Err(CheckpointError::Mismatch {
                path: path.as_ref().to_owned(),
                expected: Box::new(expected.clone()),
                found: Box::new(vae.config().clone()),
            });
        }
        Ok(vae)
    }
}

#[cfg(test)]
mod tests;
