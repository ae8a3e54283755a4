import NN

extension DeviceParity {
  /// The `NN` layer's ops, linear algebra factorizations and a network's backward pass: one
  /// case per family, each concatenating several calls.
  static var nnCases: [Case] {
    var list: [Case] = []
    func add(
      _ name: String, tolerance: Double = 1e-4, _ inputs: @autoclosure @escaping @Sendable () -> [Tensor],
      _ run: @escaping @Sendable ([Tensor]) -> Tensor
    ) {
      list.append(Case(name: name, inputs: inputs, run: run, tolerance: tolerance))
    }
    add("activations", [seeded(6, 8) * 3]) { xs in
      let x = xs[0]
      let results: [Tensor] = [
        Functional.leakyRelu(x, negativeSlope: 0.2), Functional.elu(x, alpha: 0.7), Functional.selu(x),
        Functional.celu(x, alpha: 1.3),
        Functional.hardtanh(x, minVal: -0.5, maxVal: 0.8), Functional.relu6(x),
        Functional.softplus(x, beta: 2, threshold: 1),
        Functional.softsign(x), Functional.mish(x), Functional.glu(x, dim: 1), Functional.logsigmoid(x),
        Functional.hardsigmoid(x),
        Functional.hardswish(x), Functional.tanhshrink(x), Functional.softshrink(x, lambd: 0.3),
        Functional.hardshrink(x, lambd: 0.3),
        Functional.threshold(x, threshold: 0.1, value: -2), x.gelu(), x.silu(), x.logSoftmax(dim: 1),
      ]
      return Tensor.cat(results.map { $0.flatten() })
    }
    add("losses", [seeded(5, 4), seeded(5, 4), seeded(5)]) { xs in
      let (x, t) = (xs[0], xs[1])
      let signs = xs[2].sign()
      let classes = Tensor([0, 3, 1, 3, 2], device: x.device)
      let results: [Tensor] = [
        huberLoss(x, t, delta: 0.7), smoothL1Loss(x, t, reduction: .sum, beta: 0.5),
        klDiv(x.logSoftmax(dim: 1), t.softmax(dim: 1), reduction: .batchMean),
        poissonNLLLoss(x, t.abs().round()), gaussianNLLLoss(x, t, variance: t.abs() + 0.1, full: true),
        marginRankingLoss(x[.all, 0], x[.all, 1], signs, margin: 0.2),
        hingeEmbeddingLoss(x[.all, 0], signs, margin: 0.5),
        softMarginLoss(x[.all, 0], signs), multilabelSoftMarginLoss(x, (t .> 0).float()),
        tripletMarginLoss(x, t, x.flip(0), margin: 0.5, swap: true), cosineEmbeddingLoss(x, t, signs, margin: 0.1),
        multiMarginLoss(x, classes), crossEntropy(x, classes), mseLoss(x, t), l1Loss(x, t),
        binaryCrossEntropyWithLogits(x, (t .> 0).float()),
        ctcLoss(
          Tensor.cat([x, t], dim: 0).view(10, 1, 2, 2).expand(10, 1, 2, 2).reshape(10, 1, 4).logSoftmax(dim: 2),
          Tensor([[1, 2, 3]], device: x.device),
          inputLengths: [10], targetLengths: [3]),
      ]
      return Tensor.stack(results)
    }
    add("pads", [seeded(2, 3, 4)]) { xs in
      let x = xs[0]
      return Tensor.cat([
        Functional.pad(x, [2, 1, -1, 2], value: 0.5).flatten(),
        Functional.pad(x, [3, 1, 2, 0], mode: .reflect).flatten(),
        Functional.pad(x, [2, 3], mode: .replicate).flatten(),
        Functional.pad(x, [1, 4, 3, 1], mode: .circular).flatten(),
      ])
    }
    add("pools", [seeded(2, 3, 9, 8), seeded(2, 2, 6, 5, 7), seeded(2, 3, 9)]) { xs in
      let (image, volume, signal) = (xs[0], xs[1], xs[2])
      let (values, indices) = Functional.maxPool2dWithIndices(
        image, kernel: (3, 3), stride: (2, 2), padding: (1, 1), dilation: (2, 2), ceilMode: true)
      let (volumeValues, volumeIndices) = Functional.maxPool3dWithIndices(
        volume, kernel: [2, 3, 2], stride: [2, 2, 2], padding: [1, 1, 0], dilation: [2, 1, 2], ceilMode: true)
      return Tensor.cat([
        values.flatten(), indices.float().flatten(), volumeValues.flatten(), volumeIndices.float().flatten(),
        Functional.avgPool2d(
          image, kernel: (3, 3), stride: (2, 2), padding: (1, 1), ceilMode: true, countIncludePad: false
        ).flatten(),
        Functional.avgPool3d(
          volume, kernel: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1], ceilMode: true, countIncludePad: false
        ).flatten(),
        Functional.maxPool1d(signal, kernel: 3, stride: 2, padding: 1, ceilMode: true).flatten(),
        Functional.avgPool1d(signal, kernel: 4, stride: 3, padding: 2, countIncludePad: false).flatten(),
        Functional.adaptiveAvgPool2d(image, outputSize: (3, 2)).flatten(),
      ])
    }
    add(
      "convolutions",
      [
        seeded(2, 4, 9), seeded(4, 2, 3), seeded(2, 4, 5, 6), seeded(4, 3, 3, 2), seeded(1, 4, 3, 4, 3),
        seeded(4, 3, 2, 2, 2),
      ]
    ) { xs in
      Tensor.cat([
        Functional.conv1d(xs[0], weight: xs[1], bias: nil, stride: 2, padding: .explicit(1, 1), groups: 2).flatten(),
        Functional.conv2d(xs[2], weight: xs[3].permute(1, 0, 2, 3).contiguous(), bias: nil, padding: .same).flatten(),
        Functional.conv3d(xs[4], weight: xs[5].permute(1, 0, 2, 3, 4).contiguous(), bias: nil, padding: [1, 0, 1])
          .flatten(),
        Functional.convTranspose1d(xs[0], weight: xs[1], bias: nil, stride: 2, padding: 1, outputPadding: 1).flatten(),
        Functional.convTranspose2d(xs[2], weight: xs[3], bias: nil, stride: (2, 1), padding: (1, 0), dilation: (1, 2))
          .flatten(),
        Functional.convTranspose3d(
          xs[4], weight: xs[5], bias: nil, stride: [2, 1, 2], padding: [1, 0, 0], outputPadding: [1, 0, 0]
        ).flatten(),
      ])
    }
    add("normalization and shuffles", [seeded(2, 6, 4, 3), seeded(6), seeded(6)]) { xs in
      let (x, weight, bias) = (xs[0], xs[1], xs[2])
      return Tensor.cat([
        Functional.groupNorm(x, numGroups: 3, weight: weight, bias: bias).flatten(),
        Functional.instanceNorm(x).flatten(),
        Functional.localResponseNorm(x, size: 3, alpha: 0.5, beta: 0.6, k: 2).flatten(),
        Functional.layerNorm(x, normalizedShape: [4, 3], weight: nil, bias: nil).flatten(),
        Functional.batchNorm(x, runningMean: nil, runningVar: nil, weight: weight, bias: bias, training: true)
          .flatten(),
        Functional.pixelShuffle(x.narrow(dim: 1, start: 0, length: 4), upscaleFactor: 2).flatten(),
        Functional.pixelUnshuffle(
          x.narrow(dim: 2, start: 0, length: 2).narrow(dim: 3, start: 0, length: 2), downscaleFactor: 2
        ).flatten(),
        Functional.fold(
          Functional.unfold(x, kernelSize: (2, 2), padding: (1, 0)), outputSize: (4, 3), kernelSize: (2, 2),
          padding: (1, 0)
        ).flatten(),
      ])
    }
    add(
      "sampling",
      [seeded(2, 3, 4, 5), seeded(2, 3, 4, 2), seeded(2, 2, 3, 4, 5), seeded(2, 2, 3, 2, 3), seeded(2, 2, 3)]
    ) { xs in
      let (image, grid, volume, volumeGrid) = (xs[0], xs[1].tanh() * 1.3, xs[2], xs[3].tanh() * 1.3)
      var results: [Tensor] = []
      for mode in [Functional.SampleMode.bilinear, .nearest, .bicubic] {
        for padding in [Functional.SamplePadding.zeros, .border, .reflection] {
          results.append(
            Functional.gridSample(
              image, grid: grid * 1.5, mode: mode, paddingMode: padding, alignCorners: padding == .border))
        }
      }
      results.append(Functional.gridSample(volume, grid: volumeGrid, paddingMode: .reflection))
      results.append(Functional.affineGrid(xs[4], size: [2, 3, 4, 5]))
      return Tensor.cat(results.map { $0.flatten() })
    }
    add("interpolate", [seeded(2, 3, 6, 7), seeded(1, 2, 3, 4, 5)]) { xs in
      let (image, volume) = (xs[0], xs[1])
      var results: [Tensor] = []
      for mode in [Functional.InterpolationMode.nearest, .nearestExact, .bilinear, .bicubic, .area] {
        results.append(Functional.interpolate(image, size: [4, 9], mode: mode))
      }
      results.append(Functional.interpolate(image, size: [3, 5], mode: .bilinear, antialias: true))
      results.append(Functional.interpolate(image, scaleFactor: [1.5], mode: .bicubic, alignCorners: true))
      results.append(Functional.interpolate(volume, size: [5, 3, 7], mode: .trilinear))
      return Tensor.cat(results.map { $0.flatten() })
    }
    add(
      "linalg qr lstsq svd eigh",
      [seeded(2, 5, 3, dtype: .float64), seeded(2, 5, 2, dtype: .float64), seeded(3, 5, dtype: .float64)]
    ) { xs in
      let (a, b, wide) = (xs[0], xs[1], xs[2])
      let (q, r) = Linalg.qr(a, mode: .complete)
      let (wq, wr) = Linalg.qr(wide)
      let solved = Linalg.lstsq(a, b, driver: .gels)
      let symmetric = a.mT.matmul(a)
      // Products that do not depend on the factors' signs.
      return Tensor.cat([
        q.matmul(r).flatten(), r.abs().flatten(), wq.matmul(wr).flatten(), solved.solution.flatten(),
        solved.residuals.flatten(),
        Linalg.svdvals(a).flatten(), Linalg.eigvalsh(symmetric).flatten(), Linalg.pinv(wide).flatten(),
        Linalg.matrixExp(symmetric * 0.1).flatten(),
      ])
    }
    add(
      "attention and transformer layers",
      [seeded(2, 3, 70, 8), seeded(2, 3, 90, 8), seeded(2, 3, 90, 5), seeded(2, 5, 8)]
    ) { xs in
      let (q, k, v) = (xs[0].detach().requiresGrad_(), xs[1].detach().requiresGrad_(), xs[2].detach().requiresGrad_())
      let keep = Tensor.ones(70, 90, dtype: .bool, device: q.device).tril(diagonal: 20)
      let attended =
        Functional.scaledDotProductAttention(q, k, v, attnMask: keep)
        + Functional.scaledDotProductAttention(q, k, v.narrow(dim: 3, start: 0, length: 5), isCausal: true)
      attended.sum().backward()
      Tensor.manualSeed(3)
      let layer = TransformerEncoderLayer(
        8, 2, dimFeedforward: 16, dropout: 0, activation: .gelu, batchFirst: true, normFirst: true)
      try? layer.to(xs[3].device)
      let encoded = layer(
        xs[3], srcMask: Transformer.generateSquareSubsequentMask(5, device: xs[3].device), isCausal: true)
      return Tensor.cat([
        attended.flatten(), q.grad!.flatten(), k.grad!.flatten(), v.grad!.flatten(), encoded.flatten(),
        Functional.rmsNorm(xs[3], normalizedShape: [8]).flatten(), Functional.gelu(xs[3], approximate: .tanh).flatten(),
      ])
    }
    add("recurrent layers", [seeded(6, 3, 5)]) { xs in
      let x = xs[0].detach().requiresGrad_()
      Tensor.manualSeed(5)
      let (lstm, gru, rnn) = (LSTM(5, 4, numLayers: 2, bidirectional: true), GRU(5, 3), RNN(5, 3, nonlinearity: .relu))
      for m in [lstm, gru, rnn] as [Module] { try? m.to(x.device) }
      let (lstmOut, state) = lstm(x)
      let (gruOut, _) = gru(packPaddedSequence(x, lengths: [6, 4, 2]))
      let (rnnOut, rnnH) = rnn(x)
      let total = Tensor.cat([
        lstmOut.flatten(), state.h.flatten(), state.c.flatten(), gruOut.data.flatten(), rnnOut.flatten(),
        rnnH.flatten(),
      ])
      total.sum().backward()
      return Tensor.cat([total, x.grad!.flatten()])
    }
    add("network backward", [seeded(2, 3, 8, 8), seeded(4, 3, 3, 3), seeded(4)]) { xs in
      let weight = xs[1].detach().requiresGrad_()
      let image = xs[0].detach().requiresGrad_()
      let features = Functional.conv2d(image, weight: weight, bias: xs[2], padding: (1, 1))
      let pooled = Functional.maxPool2d(Functional.groupNorm(features, numGroups: 2).relu(), kernel: (2, 2))
      let loss = crossEntropy(
        Functional.adaptiveAvgPool2d(pooled, outputSize: (1, 1)).flatten(startDim: 1),
        Tensor([1, 3], device: image.device))
      loss.backward()
      return Tensor.cat([loss.view(1), image.grad!.flatten(), weight.grad!.flatten()])
    }
    return list
  }
}
