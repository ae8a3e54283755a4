import CKernels

#if arch(x86_64)
  extension CPUBackend {
    /// Whether `geometry` runs through the direct kernels over the channel-blocked layout
    /// (`Sources/CKernels/conv_direct.c`) rather than implicit GEMM.
    static func takesDirectConvolution(_ geometry: ck_conv2d_geometry) -> Bool {
      var g = geometry
      return ck_conv2d_direct_applies(&g) != 0
    }

    /// The forward of `geometry` over `images` images by the direct kernels: the weight and
    /// the images are packed into blocks of 16 channels, then the work items of all images
    /// (output-block groups x row bands) are split over threads. With `flippedWeight`, `weight` is the forward weight of the
    /// convolution whose input gradient `geometry` is, flipped while it is packed.
    static func directForward(
      _ geometry: ck_conv2d_geometry, images n: Int, input xp: UnsafeMutablePointer<Float>,
      weight wp: UnsafeMutablePointer<Float>, flippedWeight: Bool, bias bp: UnsafeMutablePointer<Float>?,
      output yp: UnsafeMutablePointer<Float>, threads: Int
    ) {
      var g = geometry
      let packedImage = Int(ck_conv2d_direct_input_floats(&g))
      let outBlocks = Int(ck_conv2d_direct_weight_blocks(&g))
      let items = Int(ck_conv2d_direct_work_items(&g))
      let scratchFloats = Int(ck_conv2d_direct_scratch_floats(&g))
      let parts = max(1, min(threads, n * items))
      let counts = [Int(ck_conv2d_direct_weight_floats(&g)), n * packedImage, parts * scratchFloats]
      // From the host allocator's cache (64-byte aligned): fresh pages for megabytes of packed
      // images on every call cost a page fault per 4 KiB.
      let blocks = counts.map { hostAllocator.allocate(byteCount: $0 * 4).bindMemory(to: Float.self, capacity: $0) }
      defer { for (block, count) in zip(blocks, counts) { hostAllocator.deallocate(block, byteCount: count * 4) } }
      let (packedWeight, packedInput, scratch) = (blocks[0], blocks[1], blocks[2])
      parallelRanges(outBlocks, threads: threads) { _, blocks in
        var g = geometry
        ck_conv2d_direct_pack_weight_f32(
          &g, wp, flippedWeight ? 1 : 0, packedWeight, Int64(blocks.lowerBound), Int64(blocks.upperBound))
      }
      packImages(geometry, images: n, input: xp, into: packedInput, threads: threads)
      parallelRanges(n * items, threads: threads) { t, range in
        var g = geometry
        ck_conv2d_direct_forward_f32(
          &g, Int64(n), packedInput, packedWeight, bp, yp, scratch + t * scratchFloats, Int64(range.lowerBound),
          Int64(range.upperBound))
      }
    }

    /// Whether the weight gradient of `geometry` runs through the direct kernel
    /// (`ck_conv2d_direct_weight_gradient_f32`) rather than columns and GEMM.
    static func takesDirectWeightGradient(_ geometry: ck_conv2d_geometry) -> Bool {
      var g = geometry
      return ck_conv2d_direct_weight_gradient_applies(&g) != 0
    }

    /// The weight gradient of `geometry` over `images` images by the direct kernel, written
    /// into `gradWeight`: the images are packed into blocks of 16 channels, then the units
    /// (input blocks x groups of output channels, each owning its slice of the gradient) are
    /// split over threads, so no per-thread sums are added afterwards.
    static func directWeightGradient(
      _ geometry: ck_conv2d_geometry, images n: Int, input xp: UnsafeMutablePointer<Float>,
      gradOut gp: UnsafeMutablePointer<Float>, gradWeight dwp: UnsafeMutablePointer<Float>, threads: Int
    ) {
      var g = geometry
      let packedImage = Int(ck_conv2d_direct_input_floats(&g))
      let units = Int(ck_conv2d_direct_weight_gradient_units(&g))
      let count = n * packedImage
      let packedInput = hostAllocator.allocate(byteCount: count * 4).bindMemory(to: Float.self, capacity: count)
      defer { hostAllocator.deallocate(packedInput, byteCount: count * 4) }
      packImages(geometry, images: n, input: xp, into: packedInput, threads: threads)
      parallelRanges(units, threads: threads) { _, range in
        var g = geometry
        ck_conv2d_direct_weight_gradient_f32(
          &g, Int64(n), packedInput, gp, dwp, Int64(range.lowerBound), Int64(range.upperBound))
      }
    }

    /// Packs `images` NCHW images of `geometry`'s input into the blocked, padded layout
    /// (`ck_conv2d_direct_input_floats` apart), their blocks split over threads.
    private static func packImages(
      _ geometry: ck_conv2d_geometry, images n: Int, input xp: UnsafeMutablePointer<Float>,
      into packed: UnsafeMutablePointer<Float>, threads: Int
    ) {
      var g = geometry
      let imageIn = Int(g.channels * g.height * g.width)
      let packedImage = Int(ck_conv2d_direct_input_floats(&g))
      let inBlocks = (Int(g.channels) + 15) / 16
      parallelRanges(n * inBlocks, threads: threads) { _, range in
        var g = geometry
        forEachImage(in: range, unitsPerImage: inBlocks) { image, blocks in
          ck_conv2d_direct_pack_input_f32(
            &g, xp + image * imageIn, packed + image * packedImage, Int64(blocks.lowerBound),
            Int64(blocks.upperBound))
        }
      }
    }

    /// Splits a range of units numbered image by image (`unitsPerImage` each) into each
    /// image's share.
    private static func forEachImage(in range: Range<Int>, unitsPerImage: Int, _ body: (Int, Range<Int>) -> Void) {
      var unit = range.lowerBound
      while unit < range.upperBound {
        let image = unit / unitsPerImage
        let first = unit % unitsPerImage
        let last = min(unitsPerImage, first + range.upperBound - unit)
        body(image, first..<last)
        unit += last - first
      }
    }
  }
#endif
