package dev.odelt.transforms.accounting;

import dev.odelt.model.cost.FirstCalls;
import dev.odelt.proto.v1.FirstCallsCurve;

/**
 * {@link FirstCalls.Curve} to and from its {@code plan.json} form: written by {@link QuoteBatches},
 * read by {@link WritePlan}.
 */
final class FirstCallsCurves {

  private FirstCallsCurves() {}

  static FirstCallsCurve toProto(FirstCalls.Curve curve) {
    FirstCallsCurve.Builder b =
        FirstCallsCurve.newBuilder()
            .setSettledNanosPerBlockCall(curve.settledNanosPerBlockCall())
            .setMethod(curve.method());
    for (long x : curve.blockCalls()) {
      b.addBlockCalls(x);
    }
    for (long y : curve.excessNanos()) {
      b.addExcessNanos(y);
    }
    return b.build();
  }

  /** The curve of {@code c}; none when its two lists differ in length. */
  static FirstCalls.Curve fromProto(FirstCallsCurve c) {
    if (c.getBlockCallsCount() != c.getExcessNanosCount()) {
      return FirstCalls.Curve.none("malformed curve");
    }
    return new FirstCalls.Curve(
        c.getBlockCallsList().stream().mapToLong(Long::longValue).toArray(),
        c.getExcessNanosList().stream().mapToLong(Long::longValue).toArray(),
        c.getSettledNanosPerBlockCall(),
        c.getMethod());
  }
}
