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

/// The largest side of the grid's PNG in pixels (PNG allows 2³¹ − 1; this keeps a grid's
/// memory, `side²` bytes at most, far below that of a malformed request).
pub const MAX_GRID_SIDE: usize = 1 << 15;

/// Draws `images` (one image per row, `height × width` pixels row-major, values in [0, 1]) as
/// a grid with `cols` columns, dark ink on white paper.
///
/// # Errors
/// [`PlotError::Shape`] when there are no images, `cols`, `height` or `width` is 0, a row does
/// not hold `height × width` pixels, a pixel is NaN or outside [0, 1] (reported, never clamped),
/// or the grid would be wider or taller than [`MAX_GRID_SIDE`] pixels. Sizes are computed with
/// checked arithmetic, so no size overflows and nothing is allocated before they are checked.
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
    let shape = |msg: String| Err(PlotError::Shape(msg));
    let n = images.nrows();
    if n == 0 || cols == 0 {
        return shape(format!("{n} images in {cols} columns: nothing to draw"));
    }
    if height == 0 || width == 0 {
        return shape(format!(
            "image size {height}×{width}: height and width must be ≥ 1"
        ));
    }
    let pixels = height.checked_mul(width);
    if pixels != Some(images.ncols()) {
        return shape(match pixels {
            Some(p) => format!(
                "images have {} pixels each but {height}×{width} = {p} were expected",
                images.ncols()
            ),
            None => format!(
                "images have {} pixels each but {height}×{width} overflows",
                images.ncols()
            ),
        });
    }
    let pixels = images.ncols();
    if let Some((i, v)) = images
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return shape(format!(
            "pixel {} of image {} is {v}, outside [0, 1]",
            i % pixels,
            i / pixels
        ));
    }
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    let (cw, ch) = (width + GAP, height + GAP);
    // Grid side in PNG pixels: (count · cell + GAP) · SCALE, checked.
    let side = |count: usize, cell: usize| {
        count
            .checked_mul(cell)
            .and_then(|v| v.checked_add(GAP))
            .and_then(|v| v.checked_mul(SCALE))
            .filter(|&v| v <= MAX_GRID_SIDE)
    };
    let (Some(pw), Some(ph)) = (side(cols, cw), side(rows, ch)) else {
        return shape(format!(
            "{n} images of {height}×{width} in {cols} columns make a grid larger than \
             {MAX_GRID_SIDE} pixels per side; draw fewer or smaller images, or change cols"
        ));
    };
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
    // Both sides are ≤ MAX_GRID_SIDE, so they fit in u32.
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
