package dev.odelt.model.imports;

import dev.odelt.model.imports.ImportException.Problem;
import dev.odelt.model.imports.PickleValues.Bytes;
import dev.odelt.model.imports.PickleValues.Dtype;
import dev.odelt.model.imports.PickleValues.Global;
import dev.odelt.model.imports.PickleValues.NdArray;
import dev.odelt.model.imports.PickleValues.Placeholder;
import dev.odelt.model.imports.PickleValues.Tuple;
import dev.odelt.model.io.InputLimits;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A safe, streaming reader of Python pickles (protocols 2–5), for checkpoints written with {@code
 * pickle.dumps}.
 *
 * <p><b>A pickle is a program; this reader never runs it.</b> Opcodes that build lists, dicts,
 * tuples, sets and scalars are interpreted; a class or function named by GLOBAL/STACK_GLOBAL is
 * never loaded. A fixed set of names is honoured with a Java re-implementation of what they build:
 * numpy arrays ({@code numpy.core.multiarray._reconstruct} and {@code numpy._core…} with {@code
 * numpy.ndarray} and BUILD state; {@code numpy.core.numeric._frombuffer} / {@code
 * numpy._core.numeric._frombuffer}, protocol 5's form; {@code jax._src.array._reconstruct_array}),
 * {@code numpy.dtype}, numpy scalars ({@code numpy.core.multiarray.scalar}), {@code
 * flax.core.frozen_dict.FrozenDict} (its REDUCE form and its older NEWOBJ + BUILD form), {@code
 * collections.OrderedDict}, {@code builtins.set/frozenset/bytearray} and {@code _codecs.encode}
 * (protocol 2's bytes). Every other name becomes an inert {@link Placeholder}; calling or building
 * a placeholder yields a placeholder. So an optax optimizer state loads as placeholders, and {@code
 * os.system(…)} in a hostile file is only a placeholder recording the attempt.
 *
 * <p><b>Memory.</b> The file is read once, sequentially, through a 1 MiB buffer (hashing it with
 * SHA-256 on the way). Bytes and strings larger than {@value #IN_MEMORY_LIMIT} bytes are not read
 * into memory: they are kept as (offset, length) regions of the file and read only when a caller
 * asks for them ({@link NdArray#toFloatArray()}), so peak memory is the structure of the pickle
 * plus what the caller keeps, whatever the file size.
 *
 * <p>Errors name the file and the byte offset: {@link Problem#NOT_A_PICKLE} (no protocol 2–5
 * header), {@link Problem#TRUNCATED} (ends before STOP, or a length reaches past the end), {@link
 * Problem#MALFORMED_PICKLE} (unknown opcode, stack underflow, unhashable key, out-of-band buffers,
 * persistent ids, extension codes, more than {@value #MAX_OBJECTS} live objects).
 */
public final class PickleReader implements AutoCloseable {

  /** Bytes and strings up to this size are read into memory; larger ones stay in the file. */
  public static final int IN_MEMORY_LIMIT = 1 << 16;

  /**
   * Upper bound on stack and memo entries, so a hostile file fails instead of exhausting memory.
   */
  public static final int MAX_OBJECTS = InputLimits.MAX_PICKLE_OBJECTS;

  /** Upper bound on the objects a pickle builds in all (pushes), whatever it later pops. */
  static final long MAX_BUILT = 4L * InputLimits.MAX_PICKLE_OBJECTS;

  private final FileChannel channel;
  private final Object root;
  private final String sha256;
  private final long size;
  private final int protocol;

  private PickleReader(FileChannel channel, Object root, String sha256, long size, int protocol) {
    this.channel = channel;
    this.root = root;
    this.sha256 = sha256;
    this.size = size;
    this.protocol = protocol;
  }

  /**
   * Reads a pickle file. The file stays open until {@link #close()}, for the values that are still
   * in it.
   *
   * @throws ImportException naming the file when it is missing, not a pickle, truncated or
   *     malformed
   * @throws IOException when reading fails
   */
  public static PickleReader open(Path file) throws ImportException, IOException {
    if (!Files.isRegularFile(file)) {
      throw new ImportException(
          Problem.MISSING,
          file.toString(),
          Files.exists(file)
              ? "not a regular file (a directory, device, pipe or socket)"
              : "no such file");
    }
    FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
    try {
      Parser parser = new Parser(file.toString(), channel);
      Object root = parser.run();
      return new PickleReader(channel, root, parser.sha256(), parser.size, parser.protocol);
    } catch (ImportException | IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The unpickled object (see {@link PickleValues} for the Java forms). */
  public Object root() {
    return root;
  }

  /** Lowercase hex SHA-256 of the whole file. */
  public String sha256() {
    return sha256;
  }

  /** The file size in bytes. */
  public long size() {
    return size;
  }

  /** The protocol of the pickle's PROTO header (2–5). */
  public int protocol() {
    return protocol;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /** The constructors this reader honours, by the module and name a pickle gives them. */
  private enum Honoured {
    RECONSTRUCT,
    NDARRAY,
    DTYPE,
    SCALAR,
    FROMBUFFER,
    JAX_ARRAY,
    FROZEN_DICT,
    ORDERED_DICT,
    CODECS_ENCODE,
    SET,
    FROZENSET,
    BYTEARRAY
  }

  private static final Map<String, Honoured> HONOURED = honoured();

  private static Map<String, Honoured> honoured() {
    Map<String, Honoured> m = new HashMap<>();
    for (String numpy : List.of("numpy.core", "numpy._core")) {
      m.put(numpy + ".multiarray._reconstruct", Honoured.RECONSTRUCT);
      m.put(numpy + ".multiarray.scalar", Honoured.SCALAR);
      m.put(numpy + ".numeric._frombuffer", Honoured.FROMBUFFER);
    }
    m.put("numpy.ndarray", Honoured.NDARRAY);
    m.put("numpy.dtype", Honoured.DTYPE);
    m.put("jax._src.array._reconstruct_array", Honoured.JAX_ARRAY);
    m.put("flax.core.frozen_dict.FrozenDict", Honoured.FROZEN_DICT);
    m.put("collections.OrderedDict", Honoured.ORDERED_DICT);
    m.put("_codecs.encode", Honoured.CODECS_ENCODE);
    m.put("builtins.set", Honoured.SET);
    m.put("builtins.frozenset", Honoured.FROZENSET);
    m.put("builtins.bytearray", Honoured.BYTEARRAY);
    return Collections.unmodifiableMap(m);
  }

  /** The opcode interpreter: one instance per file. */
  private static final class Parser {
    private static final Object MARK = new Object();

    private final String file;
    private final FileChannel channel;
    private final long size;
    private final MessageDigest digest;
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 20);

    /** Absolute file position of buffer index 0. */
    private long bufferStart;

    /** Bytes read from the channel (and hashed) so far. */
    private long readPosition;

    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private final Set<Tuple> hashableTuples = Collections.newSetFromMap(new IdentityHashMap<>());
    private long built;
    private final Set<Object> frozenDictsAwaitingState =
        Collections.newSetFromMap(new IdentityHashMap<>());
    int protocol;
    private long opcodeOffset;
    private int opcode;

    Parser(String file, FileChannel channel) throws IOException {
      this.file = file;
      this.channel = channel;
      this.size = channel.size();
      try {
        this.digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is part of every Java platform", e);
      }
      buffer.limit(0);
    }

    String sha256() {
      return HexFormat.of().formatHex(digest.digest());
    }

    private long position() {
      return bufferStart + buffer.position();
    }

    // ---- input --------------------------------------------------------------------------

    /** Makes at least {@code n} (≤ buffer capacity) bytes available, or fails as truncated. */
    private void ensure(int n) throws IOException, ImportException {
      if (buffer.remaining() >= n) {
        return;
      }
      bufferStart += buffer.position();
      buffer.compact();
      while (buffer.position() < n) {
        int before = buffer.position();
        int read = channel.read(buffer, readPosition);
        if (read < 0) {
          buffer.flip();
          throw truncated(n);
        }
        digest.update(buffer.array(), before, read);
        readPosition += read;
      }
      buffer.flip();
    }

    private ImportException truncated(long needed) {
      return new ImportException(
          Problem.TRUNCATED,
          file,
          String.format(
              "the pickle ends at byte %d, inside opcode 0x%02x at byte %d that needs %d more"
                  + " bytes (the file has %d bytes)",
              size, opcode, opcodeOffset, needed, size));
    }

    private int u8() throws IOException, ImportException {
      ensure(1);
      return buffer.get() & 0xff;
    }

    private ByteBuffer little(int n) throws IOException, ImportException {
      ensure(n);
      ByteBuffer slice = buffer.slice().order(ByteOrder.LITTLE_ENDIAN);
      buffer.position(buffer.position() + n);
      return slice;
    }

    private byte[] bytes(int n) throws IOException, ImportException {
      byte[] out = new byte[n];
      int done = 0;
      while (done < n) {
        int chunk = Math.min(n - done, buffer.capacity());
        ensure(chunk);
        buffer.get(out, done, chunk);
        done += chunk;
      }
      return out;
    }

    /** Passes over {@code n} bytes (hashing them), optionally counting UTF-8 characters. */
    private long skip(long n, boolean countLatin1) throws IOException, ImportException {
      long chars = 0;
      long left = n;
      while (left > 0) {
        int chunk = (int) Math.min(left, buffer.capacity());
        ensure(chunk);
        if (countLatin1) {
          byte[] a = buffer.array();
          int start = buffer.arrayOffset() + buffer.position();
          for (int i = start; i < start + chunk; i++) {
            int b = a[i] & 0xff;
            if (b < 0x80 || b == 0xc2 || b == 0xc3) {
              chars++;
            } else if (b >= 0xc0 || (b & 0xc0) != 0x80) {
              chars = Long.MIN_VALUE / 2; // not latin-1 text: remembered as a negative count
            }
          }
        }
        buffer.position(buffer.position() + chunk);
        left -= chunk;
      }
      return chars;
    }

    private String line() throws IOException, ImportException {
      StringBuilder sb = new StringBuilder();
      while (true) {
        int b = u8();
        if (b == '\n') {
          return sb.toString();
        }
        if (sb.length() > 4096) {
          throw malformed("a text line longer than 4096 bytes");
        }
        sb.append((char) b);
      }
    }

    /** Checks a length read from the file against what is left of it. */
    private long length(long n) throws ImportException {
      if (n < 0) {
        throw malformed("negative length " + n);
      }
      long left = size - position();
      if (n > left) {
        throw truncated(n);
      }
      return n;
    }

    private ImportException malformed(String detail) {
      return new ImportException(
          Problem.MALFORMED_PICKLE,
          file,
          String.format("opcode 0x%02x at byte %d: %s", opcode, opcodeOffset, detail));
    }

    // ---- stack --------------------------------------------------------------------------

    private void push(Object value) throws ImportException {
      if (stack.size() >= MAX_OBJECTS) {
        throw malformed("more than " + MAX_OBJECTS + " objects on the stack (the limit)");
      }
      if (++built > MAX_BUILT) {
        throw malformed("builds more than " + MAX_BUILT + " objects (the limit)");
      }
      if (value instanceof Tuple t && t.depth() > InputLimits.MAX_PICKLE_DEPTH) {
        throw malformed(
            "tuples nested deeper than " + InputLimits.MAX_PICKLE_DEPTH + " (the limit)");
      }
      stack.add(value);
    }

    private void mark() throws ImportException {
      if (marks.size() >= InputLimits.MAX_PICKLE_MARKS) {
        throw malformed("more than " + InputLimits.MAX_PICKLE_MARKS + " open MARKs (the limit)");
      }
      marks.add(stack.size());
    }

    private Object pop() throws ImportException {
      if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) {
        throw malformed("stack underflow");
      }
      return stack.remove(stack.size() - 1);
    }

    private Object top() throws ImportException {
      if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) {
        throw malformed("stack underflow");
      }
      return stack.get(stack.size() - 1);
    }

    /** Pops everything above the last MARK, and the mark. */
    private List<Object> popMark() throws ImportException {
      if (marks.isEmpty()) {
        throw malformed("no MARK on the stack");
      }
      int at = marks.remove(marks.size() - 1);
      List<Object> items = new ArrayList<>(stack.subList(at, stack.size()));
      stack.subList(at, stack.size()).clear();
      return items;
    }

    private void memoPut(long index, Object value) throws ImportException {
      if (index < 0) {
        throw malformed("negative memo index");
      }
      if (memo.size() >= MAX_OBJECTS && !memo.containsKey(index)) {
        throw malformed("more than " + MAX_OBJECTS + " memo entries");
      }
      memo.put(index, value);
    }

    private Object memoGet(long index) throws ImportException {
      if (!memo.containsKey(index)) {
        throw malformed("memo index " + index + " was never stored");
      }
      return memo.get(index);
    }

    // ---- the interpreter -----------------------------------------------------------------

    Object run() throws IOException, ImportException {
      if (size == 0) {
        throw new ImportException(Problem.NOT_A_PICKLE, file, "the file is empty");
      }
      ensure(1);
      int first = buffer.get(buffer.position()) & 0xff;
      int second = size > 1 ? peekSecond() : -1;
      if (first != 0x80 || second < 2 || second > 5) {
        throw new ImportException(
            Problem.NOT_A_PICKLE,
            file,
            String.format(
                "does not start with the header of a pickle of protocol 2–5 (first bytes 0x%02x"
                    + " 0x%02x)",
                first, Math.max(second, 0)));
      }
      while (true) {
        opcodeOffset = position();
        opcode = u8();
        if (opcode == '.') {
          Object result = pop();
          skip(size - position(), false); // hash what follows STOP too
          return result;
        }
        step(opcode);
      }
    }

    private int peekSecond() throws IOException, ImportException {
      ensure(2);
      return buffer.get(buffer.position() + 1) & 0xff;
    }

    private void step(int op) throws IOException, ImportException {
      switch (op) {
        case 0x80 -> { // PROTO
          int v = u8();
          if (v < 2 || v > 5) {
            throw malformed("unsupported protocol " + v);
          }
          protocol = Math.max(protocol, v);
        }
        case 0x95 -> length(little(8).getLong()); // FRAME: a length hint; data follows inline
        case '(' -> mark(); // MARK
        case '0' -> pop(); // POP
        case '1' -> popMark(); // POP_MARK
        case '2' -> push(top()); // DUP
        case 'N' -> push(null);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'J' -> push((long) little(4).getInt()); // BININT
        case 'K' -> push((long) u8()); // BININT1
        case 'M' -> push((long) (little(2).getShort() & 0xffff)); // BININT2
        case 0x8a -> push(longFrom(u8())); // LONG1
        case 0x8b -> push(longFrom(little(4).getInt())); // LONG4
        case 'I' -> push(textInt(line())); // INT
        case 'L' -> push(textLong(line())); // LONG
        case 'G' -> push(little(8).order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT
        case 'F' -> push(textFloat(line())); // FLOAT
        case 0x8c -> push(unicode(u8())); // SHORT_BINUNICODE
        case 'X' -> push(unicode(little(4).getInt() & 0xffffffffL)); // BINUNICODE
        case 0x8d -> push(unicode(little(8).getLong())); // BINUNICODE8
        case 'C' -> push(binBytes(u8())); // SHORT_BINBYTES
        case 'B' -> push(binBytes(little(4).getInt() & 0xffffffffL)); // BINBYTES
        case 0x8e -> push(binBytes(little(8).getLong())); // BINBYTES8
        case 0x96 -> push(binBytes(little(8).getLong())); // BYTEARRAY8
        case 'U' -> push(binString(u8())); // SHORT_BINSTRING
        case 'T' -> push(binString(little(4).getInt())); // BINSTRING
        case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
        case 'd' -> push(dictOf(popMark())); // DICT
        case 's' -> { // SETITEM
          Object value = pop();
          Object key = pop();
          setItems(top(), List.of(key), Collections.singletonList(value));
        }
        case 'u' -> { // SETITEMS
          List<Object> items = popMark();
          if (items.size() % 2 != 0) {
            throw malformed("SETITEMS with an odd number of items");
          }
          List<Object> keys = new ArrayList<>();
          List<Object> values = new ArrayList<>();
          for (int i = 0; i < items.size(); i += 2) {
            keys.add(items.get(i));
            values.add(items.get(i + 1));
          }
          setItems(top(), keys, values);
        }
        case ']' -> push(new ArrayList<>()); // EMPTY_LIST
        case 'l' -> push(new ArrayList<>(popMark())); // LIST
        case 'a' -> { // APPEND
          Object item = pop();
          append(top(), Collections.singletonList(item));
        }
        case 'e' -> { // APPENDS
          List<Object> items = popMark();
          append(top(), items);
        }
        case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
        case 't' -> push(new Tuple(popMark())); // TUPLE
        case 0x85 -> push(new Tuple(popN(1))); // TUPLE1
        case 0x86 -> push(new Tuple(popN(2))); // TUPLE2
        case 0x87 -> push(new Tuple(popN(3))); // TUPLE3
        case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
        case 0x90 -> { // ADDITEMS
          List<Object> items = popMark();
          Object set = top();
          if (!(set instanceof Set<?>)) {
            throw malformed("ADDITEMS to " + PickleValues.describe(set));
          }
          addToSet(set, items);
        }
        case 0x91 -> { // FROZENSET
          Set<Object> set = new LinkedHashSet<>();
          addToSet(set, popMark());
          push(Collections.unmodifiableSet(set));
        }
        case 'c' -> push(global(line(), line())); // GLOBAL
        case 0x93 -> { // STACK_GLOBAL
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw malformed("STACK_GLOBAL needs two strings");
          }
          push(global(m, n));
        }
        case 'R' -> { // REDUCE
          Object args = pop();
          Object callable = pop();
          push(call(callable, argsOf(args), false));
        }
        case 0x81 -> { // NEWOBJ
          Object args = pop();
          Object cls = pop();
          push(call(cls, argsOf(args), true));
        }
        case 0x92 -> { // NEWOBJ_EX
          Object kwargs = pop();
          Object args = pop();
          Object cls = pop();
          if (!(kwargs instanceof Map<?, ?> kw) || !kw.isEmpty()) {
            push(placeholderFor(cls, argsOf(args)));
          } else {
            push(call(cls, argsOf(args), true));
          }
        }
        case 'o' -> { // OBJ
          List<Object> items = popMark();
          if (items.isEmpty()) {
            throw malformed("OBJ without a class");
          }
          push(call(items.get(0), items.subList(1, items.size()), true));
        }
        case 'i' -> { // INST
          Global g = global(line(), line());
          push(call(g, popMark(), true));
        }
        case 'b' -> { // BUILD
          Object state = pop();
          build(top(), state);
        }
        case 'p' -> memoPut(parseLong(line()), top()); // PUT
        case 'q' -> memoPut(u8(), top()); // BINPUT
        case 'r' -> memoPut(little(4).getInt() & 0xffffffffL, top()); // LONG_BINPUT
        case 0x94 -> memoPut(memo.size(), top()); // MEMOIZE
        case 'g' -> push(memoGet(parseLong(line()))); // GET
        case 'h' -> push(memoGet(u8())); // BINGET
        case 'j' -> push(memoGet(little(4).getInt() & 0xffffffffL)); // LONG_BINGET
        case 0x97 -> throw malformed("out-of-band buffers (NEXT_BUFFER) are not supported");
        case 0x98 -> top(); // READONLY_BUFFER: marks the buffer on top read-only
        case 'P', 'Q' -> throw malformed("persistent ids are not supported");
        case 0x82, 0x83, 0x84 -> throw malformed("extension registry codes are not supported");
        default -> throw malformed("unknown or unsupported opcode");
      }
    }

    private List<Object> popN(int n) throws ImportException {
      Object[] items = new Object[n];
      for (int i = n - 1; i >= 0; i--) {
        items[i] = pop();
      }
      return Arrays.asList(items);
    }

    private Object longFrom(int n) throws IOException, ImportException {
      if (n < 0 || n > 1 << 16) {
        throw malformed("integer of " + n + " bytes");
      }
      length(n);
      if (n == 0) {
        return 0L;
      }
      byte[] little = bytes(n);
      byte[] big = new byte[n];
      for (int i = 0; i < n; i++) {
        big[i] = little[n - 1 - i];
      }
      BigInteger value = new BigInteger(big);
      return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private Object textInt(String s) throws ImportException {
      if (s.equals("00")) {
        return Boolean.FALSE;
      }
      if (s.equals("01")) {
        return Boolean.TRUE;
      }
      return textLong(s);
    }

    private Object textLong(String s) throws ImportException {
      String digits = s.endsWith("L") ? s.substring(0, s.length() - 1) : s;
      try {
        BigInteger value = new BigInteger(digits.trim());
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
      } catch (NumberFormatException e) {
        throw malformed("not an integer: " + s);
      }
    }

    private long parseLong(String s) throws ImportException {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        throw malformed("not a memo index: " + s);
      }
    }

    private Object textFloat(String s) throws ImportException {
      try {
        return Double.parseDouble(s.trim());
      } catch (NumberFormatException e) {
        throw malformed("not a float: " + s);
      }
    }

    /** A UTF-8 string: in memory when small, else a lazy text region (only _codecs uses those). */
    private Object unicode(long n) throws IOException, ImportException {
      length(n);
      if (n <= IN_MEMORY_LIMIT) {
        try {
          return StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPLACE)
              .onUnmappableCharacter(CodingErrorAction.REPLACE)
              .decode(ByteBuffer.wrap(bytes((int) n)))
              .toString();
        } catch (CharacterCodingException e) {
          throw malformed("invalid UTF-8 text");
        }
      }
      long offset = position();
      long chars = skip(n, true);
      return new LargeText(offset, n, chars);
    }

    private Bytes binBytes(long n) throws IOException, ImportException {
      length(n);
      if (n <= IN_MEMORY_LIMIT) {
        return Bytes.of(bytes((int) n));
      }
      long offset = position();
      skip(n, false);
      return Bytes.region(channel, file, offset, n);
    }

    private Object binString(long n) throws IOException, ImportException {
      length(n);
      if (n > IN_MEMORY_LIMIT) {
        long offset = position();
        skip(n, false);
        return Bytes.region(channel, file, offset, n);
      }
      return new String(bytes((int) n), StandardCharsets.ISO_8859_1);
    }

    private Global global(String module, String name) throws ImportException {
      if (module.isEmpty() || name.isEmpty()) {
        throw malformed("GLOBAL with an empty module or name");
      }
      return new Global(module, name);
    }

    private List<Object> argsOf(Object args) throws ImportException {
      if (args instanceof Tuple t) {
        return t.items();
      }
      if (args instanceof List<?> l) {
        return new ArrayList<>(l);
      }
      throw malformed("call arguments must be a tuple, got " + PickleValues.describe(args));
    }

    private Map<Object, Object> dictOf(List<Object> items) throws ImportException {
      if (items.size() % 2 != 0) {
        throw malformed("DICT with an odd number of items");
      }
      Map<Object, Object> map = new LinkedHashMap<>();
      for (int i = 0; i < items.size(); i += 2) {
        map.put(hashable(items.get(i)), items.get(i + 1));
      }
      return map;
    }

    @SuppressWarnings("unchecked")
    private void setItems(Object target, List<Object> keys, List<Object> values)
        throws ImportException {
      if (target instanceof Placeholder) {
        return; // an unknown mapping class: its items are not needed
      }
      if (!(target instanceof Map<?, ?>) || frozenDictsAwaitingState.contains(target)) {
        throw malformed("SETITEM(S) on " + PickleValues.describe(target));
      }
      Map<Object, Object> map = (Map<Object, Object>) target;
      for (int i = 0; i < keys.size(); i++) {
        map.put(hashable(keys.get(i)), values.get(i));
      }
    }

    @SuppressWarnings("unchecked")
    private void append(Object target, List<Object> items) throws ImportException {
      if (target instanceof Placeholder) {
        return; // an unknown list class: its items are not needed
      }
      if (!(target instanceof ArrayList<?>)) {
        throw malformed("APPEND(S) on " + PickleValues.describe(target));
      }
      ((ArrayList<Object>) target).addAll(items);
    }

    @SuppressWarnings("unchecked")
    private void addToSet(Object target, List<Object> items) throws ImportException {
      Set<Object> set = (Set<Object>) target;
      for (Object item : items) {
        set.add(hashable(item));
      }
    }

    /**
     * Python refuses mutable keys; so does this reader (and it keeps hashing acyclic). A tuple is
     * checked once (its depth is bounded by the push), so shared items cost one visit.
     */
    private Object hashable(Object key) throws ImportException {
      if (key instanceof Tuple t) {
        if (hashableTuples.contains(t)) {
          return key;
        }
        for (Object item : t.items()) {
          hashable(item);
        }
        hashableTuples.add(t);
      } else if (key instanceof Map<?, ?>
          || key instanceof List<?>
          || key instanceof Set<?>
          || key instanceof LargeText) {
        throw malformed("unhashable key: " + PickleValues.describe(key));
      }
      return key;
    }

    // ---- honoured constructors ------------------------------------------------------------

    private Placeholder placeholderFor(Object callable, List<Object> args) {
      Global type =
          callable instanceof Global g
              ? g
              : callable instanceof Placeholder p ? p.type() : new Global("?", "?");
      return new Placeholder(type, args);
    }

    private Object call(Object callable, List<Object> args, boolean newObject)
        throws IOException, ImportException {
      if (callable instanceof Placeholder p) {
        return new Placeholder(p.type(), args);
      }
      if (!(callable instanceof Global g)) {
        throw malformed("calling " + PickleValues.describe(callable));
      }
      Honoured h = HONOURED.get(g.qualifiedName());
      if (h == null) {
        return new Placeholder(g, args);
      }
      return switch (h) {
        case RECONSTRUCT -> new NdArray();
        case NDARRAY -> new Placeholder(g, args);
        case DTYPE -> dtype(args);
        case SCALAR -> scalar(args);
        case FROMBUFFER -> fromBuffer(args);
        case JAX_ARRAY -> jaxArray(args);
        case FROZEN_DICT -> frozenDict(args, newObject);
        case ORDERED_DICT -> orderedDict(args);
        case CODECS_ENCODE -> encode(args);
        case SET, FROZENSET -> setOf(args);
        case BYTEARRAY -> bytearray(args);
      };
    }

    private Dtype dtype(List<Object> args) throws ImportException {
      if (args.isEmpty() || !(args.get(0) instanceof String descr)) {
        throw malformed("numpy.dtype needs a type string");
      }
      String d = descr;
      if (d.length() > 1 && "<>|=".indexOf(d.charAt(0)) >= 0) {
        Dtype dtype = new Dtype(d.substring(1));
        dtype.setByteOrder(d.substring(0, 1));
        return dtype;
      }
      return new Dtype(d);
    }

    private NdArray scalar(List<Object> args) throws ImportException {
      if (args.size() != 2 || !(args.get(0) instanceof Dtype dtype)) {
        throw malformed("numpy scalar needs (dtype, bytes)");
      }
      Object data = args.get(1);
      if (data instanceof String s) {
        data = Bytes.of(latin1(s)); // protocol-2 pickles of Python 2 str
      }
      if (!(data instanceof Bytes)) {
        return new NdArray(dtype, new long[0], false, data); // object scalars: kept, never read
      }
      return new NdArray(dtype, new long[0], false, data);
    }

    private NdArray fromBuffer(List<Object> args) throws ImportException {
      if (args.size() != 4
          || !(args.get(0) instanceof Bytes data)
          || !(args.get(1) instanceof Dtype dtype)
          || !(args.get(2) instanceof Tuple shape)
          || !(args.get(3) instanceof String order)) {
        throw malformed("numpy _frombuffer needs (bytes, dtype, shape, order)");
      }
      return new NdArray(dtype, shapeOf(shape), order.equals("F"), data);
    }

    private Object jaxArray(List<Object> args) throws IOException, ImportException {
      if (args.size() != 4 || !(args.get(1) instanceof Tuple callArgs)) {
        throw malformed("jax _reconstruct_array needs (function, args, state, aval state)");
      }
      Object array = call(args.get(0), callArgs.items(), false);
      build(array, args.get(2));
      return array;
    }

    private Object frozenDict(List<Object> args, boolean newObject) throws ImportException {
      Map<Object, Object> map = new LinkedHashMap<>();
      if (args.isEmpty()) {
        if (newObject) {
          frozenDictsAwaitingState.add(map); // NEWOBJ now, BUILD with the state next
        }
        return map;
      }
      if (args.size() != 1 || !(args.get(0) instanceof Map<?, ?> content)) {
        throw malformed("FrozenDict needs one dict argument");
      }
      map.putAll(content);
      return map;
    }

    private Object orderedDict(List<Object> args) throws ImportException {
      Map<Object, Object> map = new LinkedHashMap<>();
      if (args.isEmpty()) {
        return map;
      }
      if (args.size() != 1 || !(args.get(0) instanceof List<?> pairs)) {
        throw malformed("OrderedDict needs a list of pairs");
      }
      for (Object pair : pairs) {
        if (!(pair instanceof Tuple t) || t.size() != 2) {
          throw malformed("OrderedDict items must be pairs");
        }
        map.put(hashable(t.get(0)), t.get(1));
      }
      return map;
    }

    private Object encode(List<Object> args) throws ImportException {
      if (args.size() != 2
          || !(args.get(1) instanceof String encoding)
          || !(encoding.equals("latin1") || encoding.equals("latin-1"))) {
        throw malformed("_codecs.encode is honoured only as encode(text, 'latin1')");
      }
      Object text = args.get(0);
      if (text instanceof String s) {
        return Bytes.of(latin1(s));
      }
      if (text instanceof LargeText t) {
        if (t.chars < 0) {
          throw malformed("text at byte " + t.offset + " is not latin-1");
        }
        return Bytes.latin1Region(channel, file, t.offset, t.utf8Bytes, t.chars);
      }
      throw malformed("_codecs.encode of " + PickleValues.describe(text));
    }

    private byte[] latin1(String s) throws ImportException {
      byte[] out = new byte[s.length()];
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c > 0xff) {
          throw malformed("text is not latin-1");
        }
        out[i] = (byte) c;
      }
      return out;
    }

    private Object setOf(List<Object> args) throws ImportException {
      Set<Object> set = new LinkedHashSet<>();
      if (!args.isEmpty()) {
        if (!(args.get(0) instanceof List<?> items)) {
          throw malformed("set needs a list");
        }
        for (Object item : items) {
          set.add(hashable(item));
        }
      }
      return set;
    }

    private Object bytearray(List<Object> args) throws ImportException {
      if (args.isEmpty()) {
        return Bytes.of(new byte[0]);
      }
      if (args.get(0) instanceof Bytes b) {
        return b;
      }
      return encode(args.size() == 2 ? args : List.of(args.get(0), "latin1"));
    }

    private long[] shapeOf(Tuple shape) throws ImportException {
      if (shape.size() > InputLimits.MAX_RANK) {
        throw malformed(
            "array of " + shape.size() + " dimensions (the limit is " + InputLimits.MAX_RANK + ")");
      }
      long[] out = new long[shape.size()];
      long elements = 1;
      for (int i = 0; i < out.length; i++) {
        if (!(shape.get(i) instanceof Long d) || d < 0) {
          throw malformed("array shape must hold non-negative integers");
        }
        out[i] = d;
        if (d != 0 && elements > InputLimits.MAX_ELEMENTS / d) {
          throw malformed(
              "array of more than " + InputLimits.MAX_ELEMENTS + " elements (the limit)");
        }
        elements *= d;
      }
      return out;
    }

    /** BUILD: sets the state of the object on top of the stack. */
    @SuppressWarnings("unchecked")
    private void build(Object target, Object state) throws ImportException {
      if (target instanceof Placeholder p) {
        p.setState(state);
      } else if (target instanceof NdArray array) {
        buildArray(array, state);
      } else if (target instanceof Dtype dtype) {
        if (state instanceof Tuple t && t.size() >= 2 && t.get(1) instanceof String order) {
          dtype.setByteOrder(order);
        }
      } else if (target instanceof Map<?, ?> map && frozenDictsAwaitingState.remove(map)) {
        ((Map<Object, Object>) map).putAll(frozenDictContent(state));
      } else {
        throw malformed("BUILD on " + PickleValues.describe(target));
      }
    }

    /** A FrozenDict's state: {'_dict': {...}} or, with slots, (None, {'_dict': {...}}). */
    private Map<?, ?> frozenDictContent(Object state) throws ImportException {
      Object slots = state;
      if (state instanceof Tuple t && t.size() == 2) {
        slots = t.get(1) != null ? t.get(1) : t.get(0);
      }
      if (slots instanceof Map<?, ?> m && m.get("_dict") instanceof Map<?, ?> content) {
        return content;
      }
      throw malformed("FrozenDict state without a '_dict' mapping");
    }

    /** numpy's ndarray.__setstate__: (version, shape, dtype, is_fortran, rawdata). */
    private void buildArray(NdArray array, Object state) throws ImportException {
      if (!(state instanceof Tuple t) || t.size() < 4) {
        throw malformed("numpy array state must be a tuple (version, shape, dtype, order, data)");
      }
      int base = t.size() == 5 ? 1 : 0; // version 1 states start with the version number
      if (!(t.get(base) instanceof Tuple shape)
          || !(t.get(base + 1) instanceof Dtype dtype)
          || !(t.get(base + 2) instanceof Boolean fortran)) {
        throw malformed("numpy array state must hold (shape, dtype, is_fortran, data)");
      }
      Object data = t.get(base + 3);
      if (data instanceof String s) {
        data = Bytes.of(latin1(s)); // Python 2 str data
      }
      array.set(dtype, shapeOf(shape), fortran, data);
    }
  }

  /** A string too large to hold; only {@code _codecs.encode(text, 'latin1')} may use it. */
  private record LargeText(long offset, long utf8Bytes, long chars) {}
}
