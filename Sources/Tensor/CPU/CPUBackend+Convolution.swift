import CKernels

extension CPUBackend {
  func fusedConvolution2d(_ problem: Convolution2dProblem, into out: Tensor) -> Bool {
    guard let geometry = Self.geometry(problem) else { return false }
    Self.forward(
      geometry, images: problem.input.shape[0], input: Self.floats(problem.input), weight: Self.floats(problem.weight),
      bias: problem.bias.map { Self.floats($0) }, output: Self.floats(out), threads: Self.threads(for: problem))
    return true
  }

  /// Runs the forward kernels over `images` images, split over threads.
  private static func forward(
    _ geometry: ck_conv2d_geometry, images n: Int, input xp: UnsafeMutablePointer<Float>,
    weight wp: UnsafeMutablePointer<Float>, bias bp: UnsafeMutablePointer<Float>?,
    output yp: UnsafeMutablePointer<Float>,
    threads: Int
  ) {
    #if arch(x86_64)
      if takesDirectConvolution(geometry) {
        directForward(
          geometry, images: n, input: xp, weight: wp, flippedWeight: false, bias: bp, output: yp, threads: threads)
        return
      }
    #endif
    let pixels = Int(geometry.out_h * geometry.out_w)
    let imageIn = Int(geometry.channels * geometry.height * geometry.width)
    let imageOut = Int(geometry.out_channels) * pixels
    if n >= threads && pixels < Self.batchedPixelLimit {
      // Small images: each thread takes a run of whole images as one product, so the weight
      // streams through the cache once per run rather than once per image.
      parallelRanges(n, threads: threads) { _, images in
        var g = geometry
        ck_conv2d_forward_images_f32(
          &g, xp + images.lowerBound * imageIn, wp, bp, yp + images.lowerBound * imageOut, Int64(images.count))
      }
    } else if n >= threads {
      // Whole images per thread.
      parallelFor(threads) { t in
        var g = geometry
        for image in stride(from: t, to: n, by: threads) {
          ck_conv2d_forward_f32(&g, xp + image * imageIn, wp, bp, yp + image * imageOut, 0, Int64(pixels))
        }
      }
    } else {
      // Fewer images than threads: each image's pixels are split (in whole 32-pixel panels).
      for image in 0..<n {
        parallelRanges(pixels, threads: threads, alignment: 32) { _, range in
          var g = geometry
          ck_conv2d_forward_f32(
            &g, xp + image * imageIn, wp, bp, yp + image * imageOut, Int64(range.lowerBound), Int64(range.upperBound))
        }
      }
    }
  }

  func fusedConvolution2dBackward(
    _ problem: Convolution2dProblem, gradOut: Tensor, gradInput: Tensor?, gradWeight: Tensor?
  ) -> Bool {
    guard let geometry = Self.geometry(problem) else { return false }
    let (x, w) = (problem.input, problem.weight)
    let (n, channels, pixels) = (x.shape[0], x.shape[1], problem.outputSize.0 * problem.outputSize.1)
    let (xp, wp, gp) = (Self.floats(x), Self.floats(w), Self.floats(gradOut))
    let (imageIn, imageOut) = (x.numel / n, gradOut.numel / n)
    let threads = Self.threads(for: problem)
    if let gradInput {
      let dxp = Self.floats(gradInput)
      var g = geometry
      if ck_conv2d_input_gradient_is_convolution(&g) != 0 {
        Self.inputGradientByConvolution(
          geometry, images: n, gradOut: gp, weight: wp, count: w.numel, into: dxp, threads: threads)
      } else {
        // Column gradients Wᵀ dy, added back into place.
        let transposed = UnsafeMutablePointer<Float>.allocate(capacity: w.numel)
        defer { transposed.deallocate() }
        let outPerGroup = w.shape[0] / problem.groups
        parallelRanges(outPerGroup, threads: Self.transposeThreads(w.numel, threads), alignment: 16) { _, range in
          var g = geometry
          ck_conv2d_transpose_weight_f32(&g, wp, transposed, Int64(range.lowerBound), Int64(range.upperBound))
        }
        if n >= threads {
          parallelFor(threads) { t in
            var g = geometry
            for image in stride(from: t, to: n, by: threads) {
              ck_conv2d_backward_input_f32(
                &g, wp, transposed, gp + image * imageOut, dxp + image * imageIn, 0, Int64(channels))
            }
          }
        } else {
          for image in 0..<n {
            parallelRanges(channels, threads: threads) { _, range in
              var g = geometry
              ck_conv2d_backward_input_f32(
                &g, wp, transposed, gp + image * imageOut, dxp + image * imageIn, Int64(range.lowerBound),
                Int64(range.upperBound))
            }
          }
        }
      }
    }
    #if arch(x86_64)
      if let gradWeight, Self.takesDirectWeightGradient(geometry) {
        Self.directWeightGradient(
          geometry, images: n, input: xp, gradOut: gp, gradWeight: Self.floats(gradWeight), threads: threads)
        return true
      }
    #endif
    if let gradWeight {
      // Each thread sums its share into its own accumulator; they are added once. A transposed
      // accumulator (narrow layers) is converted to the weight's layout; otherwise thread 0
      // accumulates straight into the gradient.
      var g = geometry
      let transposed = ck_conv2d_weight_gradient_is_transposed(&g) != 0
      let (size, dwp) = (gradWeight.numel, Self.floats(gradWeight))
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (transposed ? threads : threads - 1) * size)
      defer { scratch.deallocate() }
      scratch.initialize(repeating: 0, count: (transposed ? threads : threads - 1) * size)
      if !transposed { dwp.initialize(repeating: 0, count: size) }
      let accumulator = { (t: Int) in transposed ? scratch + t * size : (t == 0 ? dwp : scratch + (t - 1) * size) }
      if n >= threads {
        parallelFor(threads) { t in
          var g = geometry
          for image in stride(from: t, to: n, by: threads) {
            ck_conv2d_backward_weight_f32(
              &g, xp + image * imageIn, gp + image * imageOut, accumulator(t), 0, Int64(pixels))
          }
        }
      } else {
        for image in 0..<n {
          parallelRanges(pixels, threads: threads, alignment: 32) { t, range in
            var g = geometry
            ck_conv2d_backward_weight_f32(
              &g, xp + image * imageIn, gp + image * imageOut, accumulator(t), Int64(range.lowerBound),
              Int64(range.upperBound))
          }
        }
      }
      // The accumulators are summed in parallel over ranges of their elements.
      let sum = accumulator(0)
      if threads > 1 {
        parallelRanges(size, threads: size >= 1 << 16 ? threads : 1, alignment: 16) { _, range in
          for t in 1..<threads {
            ck_axpy_f32(Int64(range.count), 1, accumulator(t) + range.lowerBound, sum + range.lowerBound)
          }
        }
      }
      if transposed {
        let rowsPerGroup = size / w.shape[0]
        parallelRanges(rowsPerGroup, threads: Self.transposeThreads(size, threads), alignment: 16) { _, range in
          var g = geometry
          ck_conv2d_weight_gradient_f32(&g, scratch, dwp, Int64(range.lowerBound), Int64(range.upperBound))
        }
      }
    }
    return true
  }

  /// The input gradient of a stride-1 geometry: the convolution of dy with the flipped
  /// weight (`count` floats), by the direct kernels where they apply (they flip the weight as
  /// they pack it) and otherwise by implicit GEMM.
  private static func inputGradientByConvolution(
    _ geometry: ck_conv2d_geometry, images n: Int, gradOut gp: UnsafeMutablePointer<Float>,
    weight wp: UnsafeMutablePointer<Float>, count: Int, into dxp: UnsafeMutablePointer<Float>, threads: Int
  ) {
    var g = geometry
    let gradientGeometry = ck_conv2d_input_gradient_geometry(&g)
    #if arch(x86_64)
      if takesDirectConvolution(gradientGeometry) {
        directForward(
          gradientGeometry, images: n, input: gp, weight: wp, flippedWeight: true, bias: nil, output: dxp,
          threads: threads)
        return
      }
    #endif
    let flipped = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { flipped.deallocate() }
    parallelRanges(Int(geometry.channels), threads: Self.transposeThreads(count, threads)) { _, range in
      var g = geometry
      ck_conv2d_flip_weight_f32(&g, wp, flipped, Int64(range.lowerBound), Int64(range.upperBound))
    }
    Self.forward(gradientGeometry, images: n, input: gp, weight: flipped, bias: nil, output: dxp, threads: threads)
  }

  /// Images with fewer output pixels than this run their forward several images to a product
  /// (`ck_conv2d_forward_images_f32`); larger ones have enough columns per weight on their own.
  static let batchedPixelLimit = 1024

  /// Threads for a weight transpose of `count` floats: it moves memory only, so small weights
  /// stay on one thread.
  private static func transposeThreads(_ count: Int, _ threads: Int) -> Int { count >= 1 << 16 ? threads : 1 }

  /// The kernels' geometry, or nil when the problem is not one they take (float32 on this
  /// backend only).
  private static func geometry(_ p: Convolution2dProblem) -> ck_conv2d_geometry? {
    guard p.input.dtype == .float32 else { return nil }
    let (x, w) = (p.input.shape, p.weight.shape)
    return ck_conv2d_geometry(
      channels: Int64(x[1]), height: Int64(x[2]), width: Int64(x[3]), out_channels: Int64(w[0]),
      groups: Int64(p.groups),
      kh: Int64(w[2]), kw: Int64(w[3]), sh: Int64(p.stride.0), sw: Int64(p.stride.1), ph: Int64(p.padding.0),
      pw: Int64(p.padding.1), dh: Int64(p.dilation.0), dw: Int64(p.dilation.1), out_h: Int64(p.outputSize.0),
      out_w: Int64(p.outputSize.1))
  }

  /// All threads once the work is worth splitting (about 2^18 multiply-adds).
  private static func threads(for p: Convolution2dProblem) -> Int {
    let work = p.input.shape[0] * p.weight.numel * p.outputSize.0 * p.outputSize.1
    return work >= 1 << 18 ? StridedLoop.threadCount : 1
  }

}
