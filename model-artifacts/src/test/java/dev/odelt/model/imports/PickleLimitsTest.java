package dev.odelt.model.imports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.imports.ImportException.Problem;
import dev.odelt.model.io.InputLimits;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile pickles end in a message, never a stack overflow, a hang or a full heap. */
class PickleLimitsTest {

  @TempDir Path dir;

  private Path file(byte[]... parts) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x80, 5});
    for (byte[] p : parts) {
      out.write(p);
    }
    out.write('.');
    Path f = dir.resolve("x.pkl");
    Files.write(f, out.toByteArray());
    return f;
  }

  private static byte[] repeat(int b, int n) {
    byte[] out = new byte[n];
    java.util.Arrays.fill(out, (byte) b);
    return out;
  }

  private String refusal(Path f) {
    ImportException e = assertThrows(ImportException.class, () -> PickleReader.open(f).close());
    assertEquals(Problem.MALFORMED_PICKLE, e.problem(), e.getMessage());
    return e.getMessage();
  }

  @Test
  void deeplyNestedTupleKeysAreRefusedAtTheDepthLimit() throws Exception {
    // {((((...),),),): 1}, 100,000 levels
    Path f = file(new byte[] {'}', ')'}, repeat(0x85, 100_000), new byte[] {'K', 1, 's'});
    assertTrue(
        refusal(f).contains("deeper than " + InputLimits.MAX_PICKLE_DEPTH), "depth limit named");
  }

  @Test
  void aFloodOfMarksIsRefusedAtTheMarkLimit() throws Exception {
    Path f = file(repeat('(', 1 << 20));
    assertTrue(refusal(f).contains(InputLimits.MAX_PICKLE_MARKS + " open MARKs"));
  }

  @Test
  void aChainOfSharedTuplesHashesOnceEach() throws Exception {
    // t0 = (); t(i+1) = (t(i), t(i)); {t60: 1}: 2^60 paths, 61 distinct tuples.
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(new byte[] {'}', ')', (byte) 0x94});
    for (int i = 0; i < 60; i++) {
      body.write(new byte[] {'0', 'h', (byte) i, 'h', (byte) i, (byte) 0x86, (byte) 0x94});
    }
    body.write(new byte[] {'K', 1, 's'});
    try (PickleReader r = PickleReader.open(file(body.toByteArray()))) {
      Map<?, ?> root = (Map<?, ?>) r.root();
      assertEquals(1, root.size());
      PickleValues.Tuple key = (PickleValues.Tuple) root.keySet().iterator().next();
      assertEquals(61, key.depth());
    }
  }

  @Test
  void arraysWhoseSizeOverflowsAreRefused() throws Exception {
    // numpy _frombuffer(b'', dtype('f4'), (2**40, 2**40), 'C')
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(global("numpy.core.numeric", "_frombuffer"));
    body.write('(');
    body.write(new byte[] {'C', 0});
    body.write(global("numpy", "dtype"));
    body.write(shortString("f4"));
    body.write(new byte[] {(byte) 0x85, 'R'});
    body.write(new byte[] {(byte) 0x8a, 6, 0, 0, 0, 0, 0, 1});
    body.write(new byte[] {(byte) 0x8a, 6, 0, 0, 0, 0, 0, 1});
    body.write(new byte[] {(byte) 0x86});
    body.write(shortString("C"));
    body.write(new byte[] {'t', 'R'});
    assertTrue(refusal(file(body.toByteArray())).contains("elements (the limit)"));
  }

  private static byte[] shortString(String s) {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] out = new byte[b.length + 2];
    out[0] = (byte) 0x8c;
    out[1] = (byte) b.length;
    System.arraycopy(b, 0, out, 2, b.length);
    return out;
  }

  private static byte[] global(String module, String name) {
    byte[] m = shortString(module);
    byte[] n = shortString(name);
    byte[] out = new byte[m.length + n.length + 1];
    System.arraycopy(m, 0, out, 0, m.length);
    System.arraycopy(n, 0, out, m.length, n.length);
    out[out.length - 1] = (byte) 0x93;
    return out;
  }
}
