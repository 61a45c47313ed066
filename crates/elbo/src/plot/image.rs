//! Grids of greyscale images (digits, reconstructions, samples, latent manifolds).

use super::png::{base64, encode_gray};
use super::{Figure, PlotError};
use ndarray::ArrayView2;

/// Pixels of each image are drawn this many times larger.
const SCALE: usize = 2;
/// Gap between images, in image pixels.
const GAP: usize = 1;
/// Room for the title above the grid.
const TITLE_H: usize = 28;

/// Draws `images` (one image per row, `height × width` pixels row-major, values in [0, 1]) as
/// a grid with `cols` columns, dark ink on white paper.
///
/// ```
/// use elbo::ndarray::Array2;
/// let digits = Array2::<f32>::zeros((6, 28 * 28));
/// let fig = elbo::plot::image_grid("six blank digits", digits.view(), 28, 28, 3).unwrap();
/// assert!(fig.svg().contains("data:image/png;base64,"));
/// ```
pub fn image_grid(
    title: &str,
    images: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    cols: usize,
) -> Result<Figure, PlotError> {
    let n = images.nrows();
    if n == 0 || cols == 0 {
        return Err(PlotError::Shape(format!(
            "{n} images in {cols} columns: nothing to draw"
        )));
    }
    if images.ncols() != height * width {
        return Err(PlotError::Shape(format!(
            "images have {} pixels each but {height}×{width} = {} were expected",
            images.ncols(),
            height * width
        )));
    }
    if let Some((i, v)) = images
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(PlotError::Shape(format!(
            "pixel {} of image {} is {v}, outside [0, 1]",
            i % (height * width),
            i / (height * width)
        )));
    }
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    let (cw, ch) = (width + GAP, height + GAP);
    let (pw, ph) = ((cols * cw + GAP) * SCALE, (rows * ch + GAP) * SCALE);
    let mut px = vec![200u8; pw * ph];
    for (k, img) in images.outer_iter().enumerate() {
        let (r0, c0) = ((k / cols) * ch + GAP, (k % cols) * cw + GAP);
        for y in 0..height * SCALE {
            for x in 0..width * SCALE {
                let v = img[(y / SCALE) * width + x / SCALE];
                px[((r0 * SCALE) + y) * pw + c0 * SCALE + x] = (255.0 * (1.0 - v)).round() as u8;
            }
        }
    }
    let png = encode_gray(pw as u32, ph as u32, &px);
    let (w, h) = (pw.max(240), ph + TITLE_H);
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><rect width="{w}" height="{h}" fill="white"/><text x="{}" y="19" text-anchor="middle" font-family="sans-serif" font-size="16">{}</text><image x="0" y="{TITLE_H}" width="{pw}" height="{ph}" style="image-rendering:pixelated" xlink:href="data:image/png;base64,{}"/></svg>"#,
        w / 2,
        crate::table::escape(title),
        base64(&png)
    );
    Ok(Figure::from_svg(svg, w as u32, h as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn wrong_pixel_count_is_a_shape_error() {
        let a = Array2::<f32>::zeros((2, 10));
        let e = image_grid("t", a.view(), 28, 28, 2).unwrap_err();
        assert!(e.to_string().contains("10 pixels each but 28×28 = 784"));
    }

    #[test]
    fn out_of_range_pixels_are_reported_not_clamped() {
        let mut a = Array2::<f32>::zeros((2, 4));
        a[(1, 3)] = 1.5;
        let e = image_grid("t", a.view(), 2, 2, 2).unwrap_err();
        assert!(e.to_string().contains("pixel 3 of image 1 is 1.5"));
    }

    #[test]
    fn title_is_escaped() {
        let a = Array2::<f32>::zeros((1, 4));
        let f = image_grid("a<b", a.view(), 2, 2, 1).unwrap();
        assert!(f.svg().contains("a&lt;b"));
    }
}
