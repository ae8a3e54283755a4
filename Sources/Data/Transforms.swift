import Foundation

/// A function of an image tensor `[..., C, H, W]` (PyTorch: a torchvision transform).
public protocol ImageTransform {
  /// The transformed image.
  func callAsFunction(_ image: Tensor) -> Tensor
}

/// Image transforms on tensors with torchvision's names and semantics (`transforms.v2` on
/// tensors). Random ones draw from their `generator`, or when it is `nil` from the default
/// generator where they run: inside a `DataLoader` that is the batch's own generator, so
/// augmented batches are reproducible from the seed whatever `numWorkers` is.
public enum Transforms {
  /// Transforms applied in order (torchvision: `Compose`).
  public struct Compose: ImageTransform {
    /// The transforms, first applied first.
    public let transforms: [any ImageTransform]
    /// The composition of `transforms`.
    public init(_ transforms: [any ImageTransform]) { self.transforms = transforms }
    /// Applies each transform in turn.
    public func callAsFunction(_ image: Tensor) -> Tensor { transforms.reduce(image) { $1($0) } }
  }

  /// `(x - mean[c]) / std[c]` per channel (torchvision: `Normalize`).
  public struct Normalize: ImageTransform {
    /// The channels' means.
    public let mean: [Double]
    /// The channels' standard deviations (none zero).
    public let std: [Double]

    /// Normalisation by per-channel `mean` and `std`.
    public init(mean: [Double], std: [Double]) {
      usageCheck(mean.count == std.count, "Normalize: mean has \(mean.count) values but std has \(std.count)")
      usageCheck(!std.contains(0), "std evaluated to zero after conversion to float32, leading to division by zero.")
      self.mean = mean
      self.std = std
    }

    /// The normalised image; the channel count must match.
    public func callAsFunction(_ image: Tensor) -> Tensor {
      usageCheck(
        image.dim >= 3 && image.shape[image.dim - 3] == mean.count,
        "Normalize: expected an image [..., \(mean.count), H, W], got shape \(image.shape)")
      let m = Tensor(mean, dtype: image.dtype).view(-1, 1, 1)
      let s = Tensor(std, dtype: image.dtype).view(-1, 1, 1)
      return (image - m) / s
    }
  }

  /// Resizes to `size` `(height, width)`, or with one number the shorter side to it keeping
  /// the aspect ratio (torchvision: `Resize`; bilinear with antialiasing by default, as
  /// torchvision's tensor path).
  public struct Resize: ImageTransform {
    /// One side (the shorter) or both.
    public let size: [Int]
    /// The interpolation (bilinear, bicubic or nearest).
    public let interpolation: Functional.InterpolationMode
    /// Whether shrinking low-pass filters first.
    public let antialias: Bool

    /// A resize to `size` (one or two numbers).
    public init(_ size: [Int], interpolation: Functional.InterpolationMode = .bilinear, antialias: Bool = true) {
      usageCheck(
        size.count == 1 || size.count == 2, "Resize: size should be one number or (height, width), got \(size)")
      self.size = size
      self.interpolation = interpolation
      self.antialias = antialias
    }

    /// A resize of the shorter side to `size`.
    public init(_ size: Int, interpolation: Functional.InterpolationMode = .bilinear, antialias: Bool = true) {
      self.init([size], interpolation: interpolation, antialias: antialias)
    }

    /// The output size for an image of `height` x `width` (torchvision's rule: the longer
    /// side is truncated, `int(size * long / short)`).
    public func outputSize(height: Int, width: Int) -> (Int, Int) {
      if size.count == 2 { return (size[0], size[1]) }
      let (short, long) = height <= width ? (height, width) : (width, height)
      let newLong = Int(Double(size[0]) * Double(long) / Double(short))
      return height <= width ? (size[0], newLong) : (newLong, size[0])
    }

    /// The resized image.
    public func callAsFunction(_ image: Tensor) -> Tensor {
      let (h, w) = outputSize(height: image.shape[image.dim - 2], width: image.shape[image.dim - 1])
      return resized(image, to: (h, w), interpolation: interpolation, antialias: antialias)
    }
  }

  /// The central `size` crop, padded with zeros where the image is smaller (torchvision:
  /// `CenterCrop`; the top-left corner at `round((H - h) / 2)`, `round((W - w) / 2)`).
  public struct CenterCrop: ImageTransform {
    /// `(height, width)`.
    public let size: (Int, Int)
    /// A square crop.
    public init(_ size: Int) { self.size = (size, size) }
    /// A `(height, width)` crop.
    public init(_ size: (Int, Int)) { self.size = size }

    /// The crop.
    public func callAsFunction(_ image: Tensor) -> Tensor {
      var x = image
      let (h, w) = (x.shape[x.dim - 2], x.shape[x.dim - 1])
      if size.0 > h || size.1 > w {
        let padTop = max(size.0 - h, 0) / 2
        let padLeft = max(size.1 - w, 0) / 2
        x = Functional.pad(x, [padLeft, max(size.1 - w, 0) - padLeft, padTop, max(size.0 - h, 0) - padTop])
      }
      let (H, W) = (x.shape[x.dim - 2], x.shape[x.dim - 1])
      let top = Int((Double(H - size.0) / 2).rounded(.toNearestOrEven))
      let left = Int((Double(W - size.1) / 2).rounded(.toNearestOrEven))
      return crop(x, top: top, left: left, height: size.0, width: size.1)
    }
  }

  /// A random `size` crop, after padding every side by `padding` (torchvision: `RandomCrop`);
  /// the corner is drawn as `randint(0, H - h + 1)`, then `randint(0, W - w + 1)`.
  public struct RandomCrop: ImageTransform {
    /// `(height, width)`.
    public let size: (Int, Int)
    /// Zeros (or `fill`) added on every side first.
    public let padding: Int
    /// Whether an image smaller than the crop is padded up to it.
    public let padIfNeeded: Bool
    /// The padding value.
    public let fill: Double
    /// Where the corner is drawn from (`nil`: the default generator where it runs).
    public let generator: Generator?

    /// A random crop of `size` (a square) after `padding`.
    public init(_ size: Int, padding: Int = 0, padIfNeeded: Bool = false, fill: Double = 0, generator: Generator? = nil)
    {
      self.init((size, size), padding: padding, padIfNeeded: padIfNeeded, fill: fill, generator: generator)
    }

    /// A random crop of `(height, width)` after `padding`.
    public init(
      _ size: (Int, Int), padding: Int = 0, padIfNeeded: Bool = false, fill: Double = 0, generator: Generator? = nil
    ) {
      self.size = size
      self.padding = padding
      self.padIfNeeded = padIfNeeded
      self.fill = fill
      self.generator = generator
    }

    /// The crop.
    public func callAsFunction(_ image: Tensor) -> Tensor {
      var x = padding > 0 ? Functional.pad(image, [padding, padding, padding, padding], value: fill) : image
      if padIfNeeded {
        let (h, w) = (x.shape[x.dim - 2], x.shape[x.dim - 1])
        if w < size.1 { x = Functional.pad(x, [size.1 - w, size.1 - w, 0, 0], value: fill) }
        if h < size.0 { x = Functional.pad(x, [0, 0, size.0 - h, size.0 - h], value: fill) }
      }
      let (h, w) = (x.shape[x.dim - 2], x.shape[x.dim - 1])
      usageCheck(h >= size.0 && w >= size.1, "Required crop size \(size) is larger than input image size (\(h), \(w))")
      if h == size.0 && w == size.1 { return x }
      let top = draw(0, h - size.0 + 1, generator)
      let left = draw(0, w - size.1 + 1, generator)
      return crop(x, top: top, left: left, height: size.0, width: size.1)
    }
  }

  /// Mirrors left-right with probability `p` (torchvision: `RandomHorizontalFlip`; flips
  /// when `rand(1) < p`).
  public struct RandomHorizontalFlip: ImageTransform {
    /// The probability of a flip.
    public let p: Double
    /// Where the coin is drawn from.
    public let generator: Generator?
    /// A flip with probability `p`.
    public init(p: Double = 0.5, generator: Generator? = nil) {
      self.p = p
      self.generator = generator
    }
    /// The image, flipped or not.
    public func callAsFunction(_ image: Tensor) -> Tensor {
      Tensor.rand([1], dtype: .float32, generator: generator).item() < p ? image.flip(image.dim - 1) : image
    }
  }

  /// A random crop of random area (a `scale` fraction of the image) and aspect ratio
  /// (log-uniform in `ratio`), resized to `size` (torchvision: `RandomResizedCrop`, the
  /// same ten tries and central fallback).
  public struct RandomResizedCrop: ImageTransform {
    /// `(height, width)` of the output.
    public let size: (Int, Int)
    /// The range of the crop's area as a fraction of the image's.
    public let scale: (Double, Double)
    /// The range of the crop's aspect ratio (width / height).
    public let ratio: (Double, Double)
    /// The interpolation of the resize.
    public let interpolation: Functional.InterpolationMode
    /// Whether the resize antialiases.
    public let antialias: Bool
    /// Where the crop is drawn from.
    public let generator: Generator?

    /// A random resized crop to a square of `size`.
    public init(
      _ size: Int, scale: (Double, Double) = (0.08, 1), ratio: (Double, Double) = (3.0 / 4, 4.0 / 3),
      interpolation: Functional.InterpolationMode = .bilinear, antialias: Bool = true, generator: Generator? = nil
    ) {
      usageCheck(
        scale.0 <= scale.1 && ratio.0 <= ratio.1, "RandomResizedCrop: scale and ratio should be of kind (min, max)")
      self.size = (size, size)
      self.scale = scale
      self.ratio = ratio
      self.interpolation = interpolation
      self.antialias = antialias
      self.generator = generator
    }

    /// The crop's `(top, left, height, width)` for an image of `height` x `width`.
    public func parameters(height: Int, width: Int) -> (Int, Int, Int, Int) {
      let area = Double(height * width)
      let logRatio = (log(ratio.0), log(ratio.1))
      for _ in 0..<10 {
        let target =
          area * Tensor.empty([1], dtype: .float32).uniform_(from: scale.0, to: scale.1, generator: generator).item()
        let aspect = exp(
          Tensor.empty([1], dtype: .float32).uniform_(from: logRatio.0, to: logRatio.1, generator: generator).item())
        let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
        let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
        if w > 0 && w <= width && h > 0 && h <= height {
          let top = draw(0, height - h + 1, generator)
          let left = draw(0, width - w + 1, generator)
          return (top, left, h, w)
        }
      }
      let inRatio = Double(width) / Double(height)
      var (w, h) = (width, height)
      if inRatio < ratio.0 {
        h = Int((Double(w) / ratio.0).rounded(.toNearestOrEven))
      } else if inRatio > ratio.1 {
        w = Int((Double(h) * ratio.1).rounded(.toNearestOrEven))
      }
      return ((height - h) / 2, (width - w) / 2, h, w)
    }

    /// The resized crop.
    public func callAsFunction(_ image: Tensor) -> Tensor {
      let (top, left, h, w) = parameters(height: image.shape[image.dim - 2], width: image.shape[image.dim - 1])
      return resized(
        crop(image, top: top, left: left, height: h, width: w), to: size, interpolation: interpolation,
        antialias: antialias)
    }
  }

  /// Random brightness and contrast (torchvision: `ColorJitter` with `brightness` and
  /// `contrast`): factors uniform in `[max(0, 1 - b), 1 + b]`, applied in a random order
  /// (`randperm(4)` as torchvision draws it), each blending with black or the image's mean
  /// grey and clamping to [0, 1].
  public struct ColorJitter: ImageTransform {
    /// The brightness factor's range, or `nil`.
    public let brightness: (Double, Double)?
    /// The contrast factor's range, or `nil`.
    public let contrast: (Double, Double)?
    /// Where the factors are drawn from.
    public let generator: Generator?

    /// Jitter of up to `brightness` and `contrast` either way (0 turns one off).
    public init(brightness: Double = 0, contrast: Double = 0, generator: Generator? = nil) {
      usageCheck(brightness >= 0 && contrast >= 0, "ColorJitter: brightness and contrast should be non-negative")
      self.brightness = brightness > 0 ? (max(0, 1 - brightness), 1 + brightness) : nil
      self.contrast = contrast > 0 ? (max(0, 1 - contrast), 1 + contrast) : nil
      self.generator = generator
    }

    /// The jittered image (float, values in [0, 1]).
    public func callAsFunction(_ image: Tensor) -> Tensor {
      let order = Tensor.randperm(4, generator: generator).toArray(Int64.self)
      let b = brightness.map {
        Tensor.empty([1], dtype: .float32).uniform_(from: $0.0, to: $0.1, generator: generator).item()
      }
      let c = contrast.map {
        Tensor.empty([1], dtype: .float32).uniform_(from: $0.0, to: $0.1, generator: generator).item()
      }
      var x = image
      for step in order {
        if step == 0, let b { x = (x * b).clamp(min: 0, max: 1) }
        if step == 1, let c {
          let channels = x.shape[x.dim - 3]
          let grey =
            channels == 3
            ? x.select(dim: -3, index: 0) * 0.2989 + x.select(dim: -3, index: 1) * 0.587 + x.select(dim: -3, index: 2)
              * 0.114
            : x
          let mean = grey.mean(dim: channels == 3 ? [-2, -1] : [-3, -2, -1], keepdim: true)
          x = (x * c + (channels == 3 ? mean.unsqueeze(-3) : mean) * (1 - c)).clamp(min: 0, max: 1)
        }
      }
      return x
    }
  }
}

/// `randint(low, high)` as one number.
private func draw(_ low: Int, _ high: Int, _ generator: Generator?) -> Int {
  Int(Tensor.randint(low, high, [1], generator: generator).item(Int64.self))
}

/// The `height` x `width` window at `(top, left)` of the last two dims.
private func crop(_ image: Tensor, top: Int, left: Int, height: Int, width: Int) -> Tensor {
  image.narrow(dim: image.dim - 2, start: top, length: height).narrow(dim: image.dim - 1, start: left, length: width)
}

/// An image `[..., C, H, W]` resized with `Functional.interpolate` (which wants a batch).
private func resized(_ image: Tensor, to size: (Int, Int), interpolation: Functional.InterpolationMode, antialias: Bool)
  -> Tensor
{
  let lead = Array(image.shape.dropLast(3))
  let batch = image.reshape([-1] + image.shape.suffix(3))
  let aa = antialias && (interpolation == .bilinear || interpolation == .bicubic)
  let out = Functional.interpolate(batch, size: [size.0, size.1], mode: interpolation, antialias: aa)
  return out.reshape(lead + out.shape.suffix(3))
}
