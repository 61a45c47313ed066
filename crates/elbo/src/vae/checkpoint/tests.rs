//! Tests of [`crate::vae::checkpoint`](super).

use super::*;

fn small(mode: Mode) -> Vae<f32> {
    Vae::new(VaeConfig {
        input_dim: 10,
        hidden: vec![6, 4],
        latent: 3,
        activation: Activation::Elu,
        mode,
        seed: 42,
    })
    .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("elbo-ckpt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("model.safetensors")
}

#[test]
fn round_trip_is_bit_exact_and_leaves_no_temporary_file() {
    for mode in [Mode::Vae, Mode::Autoencoder] {
        let path = tmp(mode.name());
        let mut vae = small(mode);
        vae.parameter_slices_mut()[0][0] = f32::MIN_POSITIVE / 3.0; // subnormal survives
        vae.save(&path).unwrap();
        let back = Vae::load(&path).unwrap();
        assert_eq!(back, vae);
        for (a, b) in back.named_parameters().iter().zip(vae.named_parameters()) {
            assert!(
                a.1.iter()
                    .zip(b.1.iter())
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            );
        }
        // overwrite in place, then check the directory holds only the model
        small(mode).save(&path).unwrap();
        assert_eq!(Vae::load(&path).unwrap(), small(mode));
        let files: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(files.len(), 1);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}

#[test]
fn corrupt_files_give_clear_errors() {
    let bytes = small(Mode::Vae).to_safetensors();
    let e = Vae::from_safetensors(&bytes[..bytes.len() - 3], "m").unwrap_err();
    assert!(matches!(e, CheckpointError::Corrupt { .. }), "{e}");
    let e = Vae::from_safetensors(b"hello", "m").unwrap_err();
    assert!(matches!(e, CheckpointError::Corrupt { .. }), "{e}");
    let mut flipped = bytes.clone();
    flipped[12] = b'#'; // inside the JSON header
    assert!(Vae::from_safetensors(&flipped, "m").is_err());
    let e = Vae::load("/nonexistent/model.safetensors").unwrap_err();
    assert!(matches!(e, CheckpointError::Io { .. }) && e.to_string().contains("/nonexistent"));
}

/// A small file whose metadata claims a huge model is refused before the model is built
/// (before, a 160-byte file allocated 4 GiB): memory stays bounded by the file's size.
#[test]
fn metadata_claiming_a_huge_model_is_refused_before_any_allocation() {
    let meta: HashMap<String, String> = [
        ("format", FORMAT),
        ("version", VERSION),
        ("input_dim", "20000"),
        ("hidden", "20000"),
        ("latent", "8"),
        ("activation", "relu"),
        ("mode", "vae"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let t = F32Tensor {
        shape: vec![1],
        bytes: vec![0; 4],
    };
    let bytes = safetensors::serialize([("encoder.0.bias", &t)], Some(meta.clone())).unwrap();
    assert!(bytes.len() < 400);
    let e = Vae::from_safetensors(&bytes, "m").unwrap_err();
    assert!(
        matches!(&e, CheckpointError::Metadata { problem, .. } if problem.contains("more than the whole file")),
        "{e}"
    );
    // beyond the engine's limit, and a zero width: named as such
    let mut huge = meta.clone();
    huge.insert("hidden".into(), "100000,100000".into());
    let bytes = safetensors::serialize([("x", &t)], Some(huge)).unwrap();
    let e = Vae::from_safetensors(&bytes, "m").unwrap_err();
    assert!(e.to_string().contains("at most"), "{e}");
    let mut zero = meta;
    zero.insert("latent".into(), "0".into());
    let bytes = safetensors::serialize([("x", &t)], Some(zero)).unwrap();
    let e = Vae::from_safetensors(&bytes, "m").unwrap_err();
    assert!(
        matches!(&e, CheckpointError::Metadata { key, .. } if key == "latent"),
        "{e}"
    );
}

#[test]
fn mismatched_files_name_the_problem() {
    // a safetensors file from elsewhere: no metadata
    let t = F32Tensor {
        shape: vec![2],
        bytes: vec![0; 8],
    };
    let foreign = safetensors::serialize([("w", &t)], None).unwrap();
    let e = Vae::from_safetensors(&foreign, "m").unwrap_err();
    assert!(e.to_string().contains("metadata `format`"), "{e}");
    // right metadata, a tensor of the wrong shape
    let vae = small(Mode::Vae);
    let mut meta: HashMap<String, String> = SafeTensors::read_metadata(&vae.to_safetensors())
        .unwrap()
        .1
        .metadata()
        .clone()
        .unwrap();
    let tensors: Vec<(String, F32Tensor)> = vae
        .named_parameters()
        .into_iter()
        .map(|(n, p)| {
            let mut shape = p.shape().to_vec();
            if n == "decoder.1.weight" {
                shape.reverse();
            }
            (
                n,
                F32Tensor {
                    bytes: vec![0; 4 * p.len()],
                    shape,
                },
            )
        })
        .collect();
    let bad = safetensors::serialize(
        tensors.iter().map(|(n, t)| (n.as_str(), t)),
        Some(meta.clone()),
    )
    .unwrap();
    let e = Vae::from_safetensors(&bad, "m").unwrap_err();
    assert!(
        e.to_string().contains("decoder.1.weight") && e.to_string().contains("shape"),
        "{e}"
    );
    // metadata describing another architecture than the tensors
    meta.insert("latent".into(), "5".into());
    let good: Vec<(String, F32Tensor)> = tensors
        .into_iter()
        .map(|(n, mut t)| {
            if n == "decoder.1.weight" {
                t.shape.reverse();
            }
            (n, t)
        })
        .collect();
    let other =
        safetensors::serialize(good.iter().map(|(n, t)| (n.as_str(), t)), Some(meta)).unwrap();
    assert!(matches!(
        Vae::from_safetensors(&other, "m"),
        Err(CheckpointError::Tensor { .. })
    ));
    // the architecture asked for differs from the file's
    let path = tmp("expect");
    vae.save(&path).unwrap();
    let want = VaeConfig {
        latent: 4,
        ..vae.config().clone()
    };
    assert!(matches!(
        Vae::load_expecting(&path, &want),
        Err(CheckpointError::Mismatch { .. })
    ));
    assert!(Vae::load_expecting(&path, vae.config()).is_ok());
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
