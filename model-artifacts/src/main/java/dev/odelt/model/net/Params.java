package dev.odelt.model.net;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;

/** Builds named parameters for the blocks. */
final class Params {

  private Params() {}

  static Parameter weight(String name, long... shape) {
    return Parameter.builder()
        .setName(name)
        .setType(Parameter.Type.WEIGHT)
        .optShape(new Shape(shape))
        .build();
  }

  static Parameter bias(String name, long size) {
    return Parameter.builder()
        .setName(name)
        .setType(Parameter.Type.BIAS)
        .optShape(new Shape(size))
        .build();
  }
}
