import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Integer, boundary and special-value cases of the added elementwise functions (float
/// values and gradients are in the Autograd fixtures); expected values are PyTorch 2.13's.
@Suite struct MoreElementwiseTests {
  let a = Tensor([-7, 7, -8, 5, 1])

  @Test func shiftsAndNamedBitwiseOps() {
    let counts = Tensor([1, 2, 3, 70, -1])
    #expect(a << counts == Tensor([-14, 28, -64, 0, 0]))
    #expect(a >> counts == Tensor([-4, 1, -1, 0, 0]))
    #expect(Tensor([12, 10]).bitwiseAnd(Tensor([10, 6])) == Tensor([8, 2]))
    #expect(Tensor([true, false]).bitwiseXor(Tensor([true, true])) == Tensor([false, true]))
  }

  @Test func shiftsOfFloatsStop() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor([1.0] as [Float]) << 1
    }
    #expect(standardError(of: result).contains("not implemented for 'Float'"))
  }

  @Test func integerDivisionAndRemainders() {
    let divisors = Tensor([2, -3, 3, 4, 5])
    #expect(a.fmod(divisors) == Tensor([-1, 1, -2, 1, 1]))
    #expect(a.div(divisors, roundingMode: .trunc) == Tensor([-3, -2, -2, 1, 0]))
    #expect(a.div(divisors, roundingMode: .floor) == Tensor([-4, -3, -3, 1, 0]))
    #expect(a.div(divisors, roundingMode: .trunc).dtype == .int64)
  }

  @Test func quadrantsSignsAndSpecialValues() {
    let y = Tensor([1, 1, -1, -1, 0] as [Float])
    let x = Tensor([1, -1, 1, -1, -1] as [Float])
    #expect(
      y.atan2(x)
        == Tensor(
          [0.7853981852531433, 2.356194496154785, -0.7853981852531433, -2.356194496154785, 3.1415927410125732]
            as [Double]
        ).float())
    #expect(Tensor([1]).atan2(Tensor([2])).dtype == .float32)
    #expect(
      Tensor([1, -2, 3] as [Float]).copysign(Tensor([-0.0, 1, -1] as [Float])) == Tensor([-1, 2, -3] as [Float]))
    #expect(Tensor([Float(3e38)]).hypot(Tensor([Float(4e38)])) == Tensor([Float.infinity]))
    #expect(Tensor([3]).exp2() == Tensor([8] as [Float]))
  }

  @Test func infinitiesAndNaNs() {
    let special = Tensor([Float.nan, .infinity, -.infinity, 1])
    #expect(special.nanToNum() == Tensor([0, Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, 1]))
    #expect(special.nanToNum(nan: 1, posinf: 2, neginf: -2) == Tensor([1, 2, -2, 1] as [Float]))
    #expect(Tensor([1, .infinity, -.infinity, .nan] as [Float]).isinf() == Tensor([false, true, true, false]))
    #expect(Tensor([1, .infinity, -.infinity] as [Float]).isposinf() == Tensor([false, true, false]))
    #expect(Tensor([1]).isinf() == Tensor([false]))
    let logSum = Tensor([.infinity, -.infinity, 1] as [Float]).logaddexp(Tensor([.infinity, -.infinity, 2] as [Float]))
    #expect(logSum[..<2] == Tensor([.infinity, -.infinity] as [Float]))
    expectClose(logSum[2...], Tensor([2.3132617473602295] as [Float]), rtol: 1e-6, atol: 0)
    let xlogy = Tensor([0, 0, 2] as [Float]).xlogy(Tensor([0, .nan, 3] as [Float]))
    #expect(xlogy[0].item() == 0 && xlogy[1].item().isNaN)
    #expect(Tensor([-1.5, 0, 2] as [Float]).heaviside(Tensor([0.5] as [Float])) == Tensor([0, 0.5, 1] as [Float]))
    #expect(Tensor([1, 2] as [Float]).lerp(Tensor([3, 6] as [Float]), weight: 0.75) == Tensor([2.5, 5] as [Float]))
  }

  @Test func inverseErrorFunction() {
    let y = Tensor([-1, 1, 0, 0.5, 1.5] as [Float]).erfinv()
    #expect(y[..<3] == Tensor([-.infinity, .infinity, 0] as [Float]))
    #expect(y[3].item(Float.self) == Float(0.4769362807273865))
    #expect(y[4].item().isNaN)
    // Double precision against 40-digit values (mpmath), tails included.
    let y64: [Double] = [0.5, -0.999999, 0.9999999999, 0.1, -0.3, 0.75, 0.999, -0.9999999, 1e-10]
    let exact: [Double] = [
      0.4769362762044699, -3.458910737275499, 4.572824958544925, 0.08885599049425769, -0.2724627147267543,
      0.8134198475976185, 2.3267537655135246, -3.7665625816384707, 8.862269254527581e-11,
    ]
    expectClose(Tensor(y64, shape: [9]).erfinv(), Tensor(exact, shape: [9]), rtol: 4e-16, atol: 0)
  }
}

@Suite struct GammaFunctionTests {
  let x = Tensor([-2.5, 0, 0.3, 1, 2.5, 10, 100], shape: [7])

  @Test func digammaPolygammaAndLgammaMatchPyTorch() {
    expectClose(
      x.digamma(),
      Tensor(
        [
          1.1031566406452433, -.infinity, -3.502524222200133, -0.5772156649015328, 0.7031566406452431,
          2.251752589066721, 4.600161852738088,
        ], shape: [7]),
      rtol: 1e-12, atol: 1e-13)
    // Against 30-digit values (mpmath): PyTorch's own trigamma is off by up to 1e-10 here.
    expectClose(
      x.polygamma(1),
      Tensor(
        [
          9.539246644989124, .infinity, 12.245364546107732, 1.6449340668482264, 0.49035775610023485,
          0.10516633568168575, 0.010050166663333571,
        ], shape: [7]),
      rtol: 1e-13, atol: 1e-15)
    expectClose(
      x.polygamma(2),
      Tensor(
        [
          -0.1082040516417274, -.infinity, -75.27253658872604, -2.4041138063191885, -0.2362040516417274,
          -0.011049834970802067, -0.00010100499983335,
        ], shape: [7]),
      rtol: 1e-13, atol: 1e-15)
    expectClose(
      x.lgamma(),
      Tensor(
        [
          -0.05624371649767405, .infinity, 1.0957979948180756, 0, 0.2846828704729192, 12.801827480081469,
          359.1342053695754,
        ], shape: [7]),
      rtol: 1e-13, atol: 1e-13)
    #expect(Tensor([-1.0], shape: [1]).digamma()[0].item().isNaN)
    expectClose(
      Tensor([0.3, 2.5] as [Float]).digamma(), Tensor([-3.502523899078369, 0.7031567692756653] as [Double]).float(),
      rtol: 1e-6, atol: 0)
  }
}
