//! Grayscale image helpers: quarter turns, integer downscaling, JPEG.

use crate::tess::GrayImage;

/// Turn the image clockwise by 0, 90, 180 or 270 degrees.
pub fn rotate_cw(img: &GrayImage, degrees: u16) -> GrayImage {
    let (w, h) = (img.width as usize, img.height as usize);
    let px = |x: usize, y: usize| img.data[y * img.stride + x];
    // Each turn as: the new size, and where new pixel (x, y) comes from.
    let (nw, nh, from): (usize, usize, &dyn Fn(usize, usize) -> u8) = match degrees % 360 {
        90 => (h, w, &|x, y| px(y, h - 1 - x)),
        180 => (w, h, &|x, y| px(w - 1 - x, h - 1 - y)),
        270 => (h, w, &|x, y| px(w - 1 - y, x)),
        _ => return img.clone(),
    };
    let mut data = Vec::with_capacity(nw * nh);
    for y in 0..nh {
        data.extend((0..nw).map(|x| from(x, y)));
    }
    GrayImage {
        width: nw as u32,
        height: nh as u32,
        stride: nw,
        data,
    }
}

/// Shrink by an integer factor, averaging each `factor`x`factor` box.
pub fn downscale(img: &GrayImage, factor: u32) -> GrayImage {
    if factor <= 1 {
        return img.clone();
    }
    let f = factor as usize;
    let (w, h) = ((img.width as usize) / f, (img.height as usize) / f);
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0u32;
            for dy in 0..f {
                let row = &img.data[(y * f + dy) * img.stride + x * f..][..f];
                sum += row.iter().map(|&v| u32::from(v)).sum::<u32>();
            }
            out[y * w + x] = (sum / (f * f) as u32) as u8;
        }
    }
    GrayImage {
        width: w as u32,
        height: h as u32,
        stride: w,
        data: out,
    }
}

/// Encode as a grayscale baseline JPEG.
pub fn to_jpeg(img: &GrayImage, quality: u8) -> Result<Vec<u8>, crate::OcrError> {
    let packed: std::borrow::Cow<'_, [u8]> = if img.stride == img.width as usize {
        std::borrow::Cow::Borrowed(&img.data[..img.width as usize * img.height as usize])
    } else {
        std::borrow::Cow::Owned(
            (0..img.height as usize)
                .flat_map(|y| {
                    img.data[y * img.stride..][..img.width as usize]
                        .iter()
                        .copied()
                })
                .collect(),
        )
    };
    let mut out = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut out, quality);
    let (w, h) = (u16::try_from(img.width), u16::try_from(img.height));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(crate::OcrError::Jpeg {
            reason: format!("image {}x{} too large", img.width, img.height),
        });
    };
    enc.encode(&packed, w, h, jpeg_encoder::ColorType::Luma)
        .map_err(|e| crate::OcrError::Jpeg {
            reason: e.to_string(),
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img() -> GrayImage {
        // 3 wide, 2 tall: 1 2 3 / 4 5 6
        GrayImage {
            width: 3,
            height: 2,
            stride: 3,
            data: vec![1, 2, 3, 4, 5, 6],
        }
    }

    #[test]
    fn quarter_turns() {
        let r = rotate_cw(&img(), 90);
        assert_eq!((r.width, r.height), (2, 3));
        assert_eq!(r.data, vec![4, 1, 5, 2, 6, 3]);
        assert_eq!(rotate_cw(&img(), 180).data, vec![6, 5, 4, 3, 2, 1]);
        let r = rotate_cw(&img(), 270);
        assert_eq!(r.data, vec![3, 6, 2, 5, 1, 4]);
        assert_eq!(rotate_cw(&rotate_cw(&img(), 90), 270).data, img().data);
    }

    #[test]
    fn downscale_averages() {
        let i = GrayImage {
            width: 4,
            height: 2,
            stride: 4,
            data: vec![0, 100, 200, 200, 100, 200, 200, 200],
        };
        let d = downscale(&i, 2);
        assert_eq!((d.width, d.height, d.data), (2, 1, vec![100, 200]));
    }

    #[test]
    fn jpeg_has_magic() {
        let j = to_jpeg(
            &GrayImage {
                width: 16,
                height: 16,
                stride: 16,
                data: vec![128; 256],
            },
            80,
        )
        .unwrap();
        assert_eq!(&j[..2], &[0xFF, 0xD8]);
    }
}
