package dev.odelt.model.imports;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Writes pickles opcode by opcode, for tests that must not depend on Python: containers, numpy
 * arrays in their pickled forms, and hostile programs. Opcode values are those of CPython's
 * Lib/pickle.py.
 */
final class PickleBuilder {

  /** A float32 array to pickle: values in row-major order. */
  record FloatArray(long[] shape, float[] values) {}

  /** A call {@code module.name(*args)} to pickle as GLOBAL + REDUCE (hostile programs). */
  record Call(String module, String name, List<Object> args) {}

  /** A float64 array to pickle (an importer must reject its dtype). */
  record DoubleArray(long[] shape, double[] values) {}

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private String numpyCore = "numpy.core";

  static PickleBuilder protocol(int version) {
    PickleBuilder b = new PickleBuilder();
    b.op(0x80).u8(version);
    return b;
  }

  PickleBuilder numpy2() {
    numpyCore = "numpy._core";
    return this;
  }

  PickleBuilder op(int code) {
    out.write(code);
    return this;
  }

  PickleBuilder u8(int v) {
    out.write(v);
    return this;
  }

  PickleBuilder raw(byte[] bytes) {
    out.writeBytes(bytes);
    return this;
  }

  private PickleBuilder le(long v, int n) {
    for (int i = 0; i < n; i++) {
      out.write((int) (v >>> (8 * i)) & 0xff);
    }
    return this;
  }

  PickleBuilder mark() {
    return op('(');
  }

  PickleBuilder none() {
    return op('N');
  }

  PickleBuilder integer(long v) {
    return op('J').le(v, 4);
  }

  PickleBuilder str(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return op('X').le(b.length, 4).raw(b);
  }

  PickleBuilder binBytes(byte[] b) {
    return op('B').le(b.length, 4).raw(b);
  }

  PickleBuilder bytearray8(byte[] b) {
    return op(0x96).le(b.length, 8).raw(b);
  }

  PickleBuilder global(String module, String name) {
    return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
  }

  PickleBuilder stackGlobal(String module, String name) {
    return str(module).str(name).op(0x93);
  }

  PickleBuilder tuple() {
    return op('t');
  }

  PickleBuilder reduce() {
    return op('R');
  }

  PickleBuilder build() {
    return op('b');
  }

  PickleBuilder emptyDict() {
    return op('}');
  }

  PickleBuilder setItems() {
    return op('u');
  }

  PickleBuilder stop() {
    return op('.');
  }

  /** A shape tuple of BININTs. */
  PickleBuilder shape(long[] shape) {
    mark();
    for (long d : shape) {
      integer(d);
    }
    return tuple();
  }

  /** numpy.dtype(descr, False, True) with BUILD state (3, order, …). */
  PickleBuilder dtype(String descr, String order) {
    global("numpy", "dtype").mark().str(descr).op(0x89).op(0x88).tuple().reduce();
    mark().integer(3).str(order).none().none().none().integer(-1).integer(-1).integer(0).tuple();
    return build();
  }

  /** A float32 array in the protocol 2–4 form: _reconstruct + BUILD (version 1 state). */
  PickleBuilder reconstructArray(long[] shape, byte[] data, String descr, boolean fortran) {
    global(numpyCore + ".multiarray", "_reconstruct")
        .global("numpy", "ndarray")
        .mark()
        .integer(0)
        .tuple()
        .binBytes(new byte[] {'b'})
        .op(0x87)
        .reduce();
    mark().integer(1).shape(shape).dtype(descr, "<").op(fortran ? 0x88 : 0x89).binBytes(data);
    return tuple().build();
  }

  /** A float32 array in protocol 5's form: _frombuffer(bytearray, dtype, shape, order). */
  PickleBuilder fromBufferArray(long[] shape, byte[] data, String order) {
    global(numpyCore + ".numeric", "_frombuffer").mark().bytearray8(data).dtype("f4", "<");
    return shape(shape).str(order).tuple().reduce();
  }

  /** Writes a Java value: Map (dict), List, String, Long, FloatArray, DoubleArray, Call, null. */
  PickleBuilder value(Object v) {
    if (v == null) {
      return none();
    }
    if (v instanceof Map<?, ?> m) {
      emptyDict();
      if (!m.isEmpty()) {
        mark();
        for (Map.Entry<?, ?> e : m.entrySet()) {
          value(e.getKey());
          value(e.getValue());
        }
        setItems();
      }
      return this;
    }
    if (v instanceof List<?> l) {
      op(']');
      if (!l.isEmpty()) {
        mark();
        for (Object item : l) {
          value(item);
        }
        op('e');
      }
      return this;
    }
    if (v instanceof String s) {
      return str(s);
    }
    if (v instanceof Long l) {
      return integer(l);
    }
    if (v instanceof FloatArray a) {
      return reconstructArray(a.shape(), littleEndian(a.values()), "f4", false);
    }
    if (v instanceof Call c) {
      global(c.module(), c.name()).mark();
      for (Object arg : c.args()) {
        value(arg);
      }
      return tuple().reduce();
    }
    if (v instanceof DoubleArray a) {
      ByteBuffer b = ByteBuffer.allocate(8 * a.values().length).order(ByteOrder.LITTLE_ENDIAN);
      b.asDoubleBuffer().put(a.values());
      return reconstructArray(a.shape(), b.array(), "f8", false);
    }
    throw new IllegalArgumentException("cannot pickle " + v.getClass());
  }

  static byte[] littleEndian(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  byte[] toBytes() {
    return out.toByteArray();
  }
}
