package dev.odelt.model.imports;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.imports.ImportException.Problem;
import dev.odelt.model.imports.PickleValues.Bytes;
import dev.odelt.model.imports.PickleValues.NdArray;
import dev.odelt.model.imports.PickleValues.Placeholder;
import dev.odelt.model.imports.PickleValues.Tuple;
import dev.odelt.model.io.ModelPackages;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PickleReaderTest {

  @TempDir Path dir;

  private Object read(byte[] pickle) throws Exception {
    Path file = Files.write(dir.resolve("p" + System.nanoTime() + ".pkl"), pickle);
    try (PickleReader reader = PickleReader.open(file)) {
      return reader.root();
    }
  }

  private ImportException failure(byte[] pickle) throws IOException {
    Path file = Files.write(dir.resolve("bad" + System.nanoTime() + ".pkl"), pickle);
    return assertThrows(ImportException.class, () -> PickleReader.open(file).close());
  }

  @Test
  void readsContainersScalarsAndTheMemo() throws Exception {
    // {'a': [1, None, True], 'b': ('x', 2.5, b'\x01'), 'big': 2**70, 'c': {1, 2}, 'again': <memo>}
    PickleBuilder b = PickleBuilder.protocol(4).op(0x95).raw(new byte[8]); // FRAME (hint only)
    b.op('}').op(0x94).mark();
    b.str("a").op(']').op(0x94).mark().op('K').u8(1).none().op(0x88).op('e');
    b.str("b").str("x").op('G').raw(ByteBuffer.allocate(8).putDouble(2.5).array());
    b.op('C').u8(1).u8(1).op(0x87);
    b.str("big").op(0x8a).u8(9).raw(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0x40});
    b.str("c").op(0x8f).mark().op('K').u8(1).op('K').u8(2).op(0x90);
    b.str("again").op('h').u8(1); // the list, memoized as 1
    b.setItems().stop();

    @SuppressWarnings("unchecked")
    Map<Object, Object> root = (Map<Object, Object>) read(b.toBytes());
    assertEquals(List.of("a", "b", "big", "c", "again"), List.copyOf(root.keySet()));
    assertEquals(Arrays.asList(1L, null, true), root.get("a"));
    Tuple t = (Tuple) root.get("b");
    assertEquals("x", t.get(0));
    assertEquals(2.5, t.get(1));
    assertArrayEquals(new byte[] {1}, ((Bytes) t.get(2)).read());
    assertEquals(BigInteger.TWO.pow(70), root.get("big"));
    assertEquals(Set.of(1L, 2L), root.get("c"));
    assertTrue(root.get("again") == root.get("a"), "memo returns the same object");
  }

  @Test
  void readsNumpyArraysInEveryPickledForm() throws Exception {
    float[] values = {1, 2, 3, 4, 5, 6};
    byte[] c = PickleBuilder.littleEndian(values);
    // Column-major bytes of the same (2, 3) array: 1 4 2 5 3 6.
    byte[] f = PickleBuilder.littleEndian(new float[] {1, 4, 2, 5, 3, 6});
    PickleBuilder b = PickleBuilder.protocol(5).mark();
    b.reconstructArray(new long[] {2, 3}, c, "f4", false);
    b.reconstructArray(new long[] {2, 3}, f, "f4", true);
    b.numpy2().fromBufferArray(new long[] {2, 3}, c, "C");
    b.fromBufferArray(new long[] {2, 3}, f, "F");
    // numpy.core.multiarray.scalar(dtype('i8'), bytes): step counters are scalars or 0-d arrays.
    b.global("numpy.core.multiarray", "scalar").dtype("i8", "<");
    b.binBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(100000).array());
    b.op(0x86).reduce();
    b.op('l').stop();

    @SuppressWarnings("unchecked")
    List<Object> arrays = (List<Object>) read(b.toBytes());
    for (int i = 0; i < 4; i++) {
      NdArray a = (NdArray) arrays.get(i);
      assertArrayEquals(new long[] {2, 3}, a.shape());
      assertArrayEquals(values, a.toFloatArray(), "form " + i);
    }
    NdArray scalar = (NdArray) arrays.get(4);
    assertEquals(0, scalar.shape().length);
    assertEquals(100000L, scalar.longValue());
  }

  @Test
  void keepsLargeArraysInTheFileAndReadsThemOnDemand() throws Exception {
    int n = PickleReader.IN_MEMORY_LIMIT; // 4n bytes: far above the in-memory limit
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = i * 0.5f - 7;
    }
    byte[] pickle =
        PickleBuilder.protocol(5)
            .fromBufferArray(new long[] {n}, PickleBuilder.littleEndian(values), "C")
            .stop()
            .toBytes();
    Path file = Files.write(dir.resolve("large.pkl"), pickle);
    try (PickleReader reader = PickleReader.open(file)) {
      NdArray a = (NdArray) reader.root();
      assertTrue(((Bytes) a.data()).inFile());
      assertArrayEquals(values, a.toFloatArray());
      assertEquals(ModelPackages.sha256(pickle), reader.sha256());
      assertEquals(5, reader.protocol());
    }
  }

  @Test
  void decodesProtocolTwoBytesFromLatinOneText() throws Exception {
    // Protocol 2 has no bytes opcode: numpy writes _codecs.encode(text, 'latin1'), text UTF-8.
    for (int n : new int[] {3, PickleReader.IN_MEMORY_LIMIT}) {
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = -1.5f * i + 0.25f; // bytes ≥ 0x80: two UTF-8 bytes each
      }
      byte[] raw = PickleBuilder.littleEndian(values);
      String latin1 = new String(raw, StandardCharsets.ISO_8859_1);
      PickleBuilder b = PickleBuilder.protocol(2);
      b.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray");
      b.mark().integer(0).tuple();
      b.global("_codecs", "encode").str("b").str("latin1").op(0x86).reduce();
      b.op(0x87).reduce();
      b.mark().integer(1).shape(new long[] {n}).dtype("f4", "<").op(0x89);
      b.global("_codecs", "encode").str(latin1).str("latin1").op(0x86).reduce();
      b.tuple().build().stop();
      Path file = Files.write(dir.resolve("p2-" + n + ".pkl"), b.toBytes());
      try (PickleReader reader = PickleReader.open(file)) {
        NdArray a = (NdArray) reader.root();
        assertEquals(n > 3, ((Bytes) a.data()).inFile());
        assertArrayEquals(values, a.toFloatArray(), "n = " + n);
      }
    }
  }

  @Test
  void readsBigEndianArrays() throws Exception {
    float[] values = {1.5f, -2f};
    ByteBuffer big = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN);
    big.asFloatBuffer().put(values);
    PickleBuilder b = PickleBuilder.protocol(3);
    b.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray");
    b.mark().integer(0).tuple().binBytes(new byte[] {'b'}).op(0x87).reduce();
    b.mark().integer(1).shape(new long[] {2}).dtype("f4", ">").op(0x89).binBytes(big.array());
    b.tuple().build().stop();
    assertArrayEquals(values, ((NdArray) read(b.toBytes())).toFloatArray());
  }

  @Test
  void unwrapsFrozenDictsAndOrderedDicts() throws Exception {
    PickleBuilder b = PickleBuilder.protocol(4).mark();
    // FrozenDict({'k': 1}) as flax's __reduce__ writes it.
    b.global("flax.core.frozen_dict", "FrozenDict").mark().value(Map.of("k", 1L)).tuple().reduce();
    // Older flax: NEWOBJ with no arguments, then BUILD with the slot state (None, {'_dict': …}).
    b.global("flax.core.frozen_dict", "FrozenDict").op(')').op(0x81);
    b.none().value(Map.of("_dict", Map.of("k", 2L), "_hash", "x")).op(0x86).build();
    // collections.OrderedDict() then SETITEMS.
    b.global("collections", "OrderedDict").op(')').reduce().mark().str("k").integer(3).setItems();
    b.op('l').stop();
    @SuppressWarnings("unchecked")
    List<Object> maps = (List<Object>) read(b.toBytes());
    assertEquals(Map.of("k", 1L), maps.get(0));
    assertEquals(Map.of("k", 2L), maps.get(1));
    assertEquals(Map.of("k", 3L), maps.get(2));
  }

  @Test
  void turnsUnknownClassesIntoInertPlaceholders() throws Exception {
    // (ScaleByAdamState(1, {}, {}), EmptyState()) as optax pickles: NEWOBJ of unknown classes.
    PickleBuilder b = PickleBuilder.protocol(4).mark();
    b.stackGlobal("optax._src.transform", "ScaleByAdamState");
    b.mark().integer(1).emptyDict().emptyDict().tuple().op(0x81);
    b.stackGlobal("optax._src.base", "EmptyState").op(')').op(0x81);
    b.emptyDict().build(); // BUILD on a placeholder keeps the state, does nothing
    b.tuple().stop();
    Tuple t = (Tuple) read(b.toBytes());
    Placeholder adam = (Placeholder) t.get(0);
    assertEquals("optax._src.transform.ScaleByAdamState", adam.type().qualifiedName());
    assertEquals(3, adam.args().size());
    Placeholder empty = (Placeholder) t.get(1);
    assertEquals(Map.of(), empty.state());
  }

  @Test
  void neverRunsWhatAHostilePickleCalls() throws Exception {
    Path marker = dir.resolve("pwned");
    String command = "touch " + marker;
    PickleBuilder b = PickleBuilder.protocol(2).mark();
    b.global("os", "system").mark().str(command).tuple().reduce();
    b.global("posix", "system").mark().str(command).tuple().reduce();
    b.global("builtins", "eval").mark().str("__import__('os').system('" + command + "')").tuple();
    b.reduce();
    b.global("builtins", "exec").mark().str("open('" + marker + "', 'w')").tuple().reduce();
    b.global("subprocess", "Popen").mark().op(']').mark().str("touch").str(marker.toString());
    b.op('e').tuple().reduce();
    // Nested: getattr(__import__('os'), 'system')('touch …'): a placeholder called again.
    b.global("builtins", "getattr").mark();
    b.global("builtins", "__import__").mark().str("os").tuple().reduce();
    b.str("system").tuple().reduce().mark().str(command).tuple().reduce();
    // A hostile object inside an honoured constructor's argument: still only a placeholder.
    b.global("collections", "OrderedDict").mark().op(']').mark();
    b.str("k").global("os", "system").mark().str(command).tuple().reduce().op(0x86);
    b.op('e').tuple().reduce();
    b.op('l').stop();

    @SuppressWarnings("unchecked")
    List<Object> results = (List<Object>) read(b.toBytes());
    assertFalse(Files.exists(marker), "a pickle made the reader run a command");
    for (int i = 0; i < 6; i++) {
      assertInstanceOf(Placeholder.class, results.get(i), "item " + i);
    }
    assertEquals("os.system", ((Placeholder) results.get(0)).type().qualifiedName());
    assertEquals(List.of(command), ((Placeholder) results.get(0)).args());
    assertEquals("builtins.getattr", ((Placeholder) results.get(5)).type().qualifiedName());
    Map<?, ?> ordered = (Map<?, ?>) results.get(6);
    assertInstanceOf(Placeholder.class, ordered.get("k"));
  }

  @Test
  void rejectsFilesThatAreNotPickles() throws Exception {
    assertEquals(Problem.NOT_A_PICKLE, failure(new byte[0]).problem());
    ImportException text = failure("PK\u0003\u0004 a zip file".getBytes(StandardCharsets.UTF_8));
    assertEquals(Problem.NOT_A_PICKLE, text.problem());
    assertTrue(text.getMessage().contains("protocol 2–5"), text.getMessage());
    assertEquals(Problem.NOT_A_PICKLE, failure(new byte[] {(byte) 0x80, 1, 'N', '.'}).problem());
    assertEquals(Problem.NOT_A_PICKLE, failure(new byte[] {'(', 'l', '.'}).problem());
    Path missing = dir.resolve("nope.pkl");
    ImportException e =
        assertThrows(ImportException.class, () -> PickleReader.open(missing).close());
    assertEquals(Problem.MISSING, e.problem());
    assertTrue(e.getMessage().contains(missing.toString()));
  }

  @Test
  void reportsEveryTruncationAsTruncated() throws Exception {
    byte[] whole =
        PickleBuilder.protocol(4)
            .value(
                Map.of(
                    "params",
                    Map.of("w", new PickleBuilder.FloatArray(new long[] {2}, new float[] {1, 2}))))
            .stop()
            .toBytes();
    assertInstanceOf(Map.class, read(whole));
    for (int cut = 2; cut < whole.length; cut++) {
      ImportException e = failure(Arrays.copyOf(whole, cut));
      assertEquals(Problem.TRUNCATED, e.problem(), "cut at " + cut + ": " + e.getMessage());
      assertTrue(e.getMessage().contains("bad"), e.getMessage()); // names the file
    }
  }

  @Test
  void rejectsMalformedPrograms() throws Exception {
    byte[][] programs = {
      PickleBuilder.protocol(2).op('0').stop().toBytes(), // POP on an empty stack
      PickleBuilder.protocol(2).op(0xff).stop().toBytes(), // no such opcode
      PickleBuilder.protocol(5).op(0x97).stop().toBytes(), // out-of-band buffer
      PickleBuilder.protocol(2).str("id").op('Q').stop().toBytes(), // persistent id
      PickleBuilder.protocol(2).op('h').u8(7).stop().toBytes(), // memo never stored
      PickleBuilder.protocol(2).op('}').op(']').integer(1).op('s').stop().toBytes(), // list key
      PickleBuilder.protocol(2).op('}').op('}').build().stop().toBytes(), // BUILD on a dict
      PickleBuilder.protocol(2).str("f").op(')').reduce().stop().toBytes(), // calling a string
    };
    for (byte[] program : programs) {
      ImportException e = failure(program);
      assertEquals(Problem.MALFORMED_PICKLE, e.problem(), e.getMessage());
      assertTrue(e.getMessage().contains("at byte"), e.getMessage());
    }
    // A length far beyond the end of the file is truncation, not an attempt to allocate it.
    byte[] huge =
        PickleBuilder.protocol(4).op(0x8e).raw(new byte[] {0, 0, 0, 0, 0, 0, 0, 0x7f}).toBytes();
    assertEquals(Problem.TRUNCATED, failure(huge).problem());
  }

  @Test
  void noneAtTheTop() throws Exception {
    assertNull(read(PickleBuilder.protocol(2).none().stop().toBytes()));
  }
}
