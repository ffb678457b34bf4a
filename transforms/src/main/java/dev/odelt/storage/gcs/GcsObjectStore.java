package dev.odelt.storage.gcs;

import com.google.api.gax.paging.Page;
import com.google.cloud.ReadChannel;
import com.google.cloud.WriteChannel;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.Storage.BlobField;
import com.google.cloud.storage.Storage.BlobGetOption;
import com.google.cloud.storage.Storage.BlobListOption;
import com.google.cloud.storage.Storage.BlobSourceOption;
import com.google.cloud.storage.Storage.BlobTargetOption;
import com.google.cloud.storage.Storage.BlobWriteOption;
import com.google.cloud.storage.StorageException;
import dev.odelt.storage.Globs;
import dev.odelt.storage.ObjectStore;
import java.io.BufferedOutputStream;
import java.io.FileNotFoundException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import java.util.zip.CRC32C;

/**
 * {@link ObjectStore} for {@code gs://bucket/name} on Google Cloud Storage, through Google's client
 * ({@link Storage}).
 *
 * <p>Guarantees:
 *
 * <ul>
 *   <li><b>Atomic writes.</b> Objects up to {@link #resumableThresholdBytes()} are sent in one
 *       request; larger ones through a resumable upload that is finalised only after the last byte,
 *       with a CRC32C the service checks. Either way the object appears whole or not at all; an
 *       upload that fails part-way is abandoned, never finalised. A rewrite replaces the object
 *       (same name, same bytes: idempotent).
 *   <li><b>Content type and user metadata</b> are stored with the object.
 *   <li><b>Lazy listing.</b> {@link #list} asks for one page of {@link #pageSize()} names at a
 *       time, with the glob's literal prefix as the server-side prefix (and the {@code /} delimiter
 *       when the glob does not cross directories), and filters by the glob while the caller
 *       consumes the stream: memory does not grow with the number of objects. Names come in the
 *       service's lexicographic order.
 *   <li><b>Reads</b> pin the generation found when the object is opened, so a reader never mixes
 *       two versions of an object that is rewritten meanwhile.
 *   <li><b>Retries</b> happen in the client per request (see {@code GcsClients} for the settings of
 *       the production client). When they run out, or on a non-retryable error, the failure is an
 *       {@link IOException} naming the operation, the object and the HTTP status: {@link
 *       FileNotFoundException} for 404, {@link AccessDeniedException} for 403, and a message
 *       explaining Application Default Credentials for 401.
 * </ul>
 *
 * <p>The client is created on first use, so a job that never touches {@code gs://} never looks for
 * credentials. Instances are immutable and thread-safe.
 */
public final class GcsObjectStore implements ObjectStore {

  /** Names per list request by default (the service's maximum is 1000). */
  public static final int DEFAULT_PAGE_SIZE = 1000;

  /** Objects larger than this many bytes are written with a resumable upload by default. */
  public static final int DEFAULT_RESUMABLE_THRESHOLD_BYTES = 8 * 1024 * 1024;

  /** Name stem of the probe objects written and removed by {@link #checkAccess}. */
  static final String PROBE_STEM = ".odelt-access-check-";

  /** Makes the client on first use. */
  @FunctionalInterface
  public interface StorageFactory {
    /** Creates the client; may fail, for example when no credentials are found. */
    Storage create() throws IOException;
  }

  private final LazyStorage storage;
  private final int pageSize;
  private final int resumableThresholdBytes;

  private GcsObjectStore(LazyStorage storage, int pageSize, int resumableThresholdBytes) {
    this.storage = storage;
    this.pageSize = pageSize;
    this.resumableThresholdBytes = resumableThresholdBytes;
  }

  /** A store on a given client (tests: {@code LocalStorageHelper.getOptions().getService()}). */
  public static GcsObjectStore using(Storage storage) {
    if (storage == null) {
      throw new IllegalArgumentException("storage must not be null");
    }
    return lazy(() -> storage);
  }

  /** A store whose client is made by {@code factory} on first use. */
  public static GcsObjectStore lazy(StorageFactory factory) {
    return new GcsObjectStore(
        new LazyStorage(factory), DEFAULT_PAGE_SIZE, DEFAULT_RESUMABLE_THRESHOLD_BYTES);
  }

  /**
   * The production store: Application Default Credentials, project from {@code
   * GOOGLE_CLOUD_PROJECT} or the credentials, the client's default retries. Nothing is looked up
   * until the first operation.
   */
  public static GcsObjectStore fromEnvironment() {
    return lazy(() -> GcsClients.defaultStorage(null));
  }

  /** Like {@link #fromEnvironment()} with an explicit project for billing and quota. */
  public static GcsObjectStore forProject(String projectId) {
    return lazy(() -> GcsClients.defaultStorage(projectId));
  }

  /** A copy that lists {@code size} names per request (1..1000). */
  public GcsObjectStore withPageSize(int size) {
    if (size < 1 || size > 1000) {
      throw new IllegalArgumentException("page size must be in 1..1000, got " + size);
    }
    return new GcsObjectStore(storage, size, resumableThresholdBytes);
  }

  /** A copy that uses a resumable upload for objects larger than {@code bytes} (at least 0). */
  public GcsObjectStore withResumableThresholdBytes(int bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("resumable threshold must be >= 0, got " + bytes);
    }
    return new GcsObjectStore(storage, pageSize, bytes);
  }

  /** Names asked for per list request. */
  public int pageSize() {
    return pageSize;
  }

  /** Objects larger than this are written with a resumable upload. */
  public int resumableThresholdBytes() {
    return resumableThresholdBytes;
  }

  @Override
  public String scheme() {
    return "gs";
  }

  @Override
  public InputStream open(String location) throws IOException {
    GcsLocation at = objectLocation(location);
    Storage client = storage.get();
    Blob blob;
    try {
      blob = client.get(at.blobId(), BlobGetOption.fields(BlobField.NAME, BlobField.GENERATION));
    } catch (StorageException e) {
      throw translate("open", location, e);
    }
    if (blob == null) {
      throw new FileNotFoundException("No object " + location);
    }
    BlobId pinned = blob.getGeneration() == null ? at.blobId() : blob.getBlobId();
    ReadChannel reader;
    try {
      reader = client.reader(pinned);
    } catch (StorageException e) {
      throw translate("open", location, e);
    }
    return new TranslatingInputStream(Channels.newInputStream(reader), location);
  }

  @Override
  public byte[] readAllBytes(String location) throws IOException {
    GcsLocation at = objectLocation(location);
    try {
      return storage.get().readAllBytes(at.blobId());
    } catch (StorageException e) {
      throw translate("read", location, e);
    }
  }

  @Override
  public void write(String location, byte[] bytes, String contentType, Map<String, String> metadata)
      throws IOException {
    GcsLocation at = objectLocation(location);
    BlobInfo.Builder info = BlobInfo.newBuilder(at.blobId());
    if (contentType != null) {
      info.setContentType(contentType);
    }
    if (metadata != null && !metadata.isEmpty()) {
      info.setMetadata(metadata);
    }
    Storage client = storage.get();
    try {
      if (bytes.length <= resumableThresholdBytes) {
        client.create(info.build(), bytes);
      } else {
        writeResumable(client, info.setCrc32c(crc32c(bytes)).build(), bytes);
      }
    } catch (StorageException e) {
      throw translate("write", location, e);
    }
  }

  /**
   * Streams through a resumable upload session; commit finalises it (the object appears whole),
   * close without commit abandons the session, which leaves nothing visible and expires on its own.
   */
  @Override
  public Upload upload(String location, String contentType, Map<String, String> metadata)
      throws IOException {
    GcsLocation at = objectLocation(location);
    BlobInfo.Builder info = BlobInfo.newBuilder(at.blobId());
    if (contentType != null) {
      info.setContentType(contentType);
    }
    if (metadata != null && !metadata.isEmpty()) {
      info.setMetadata(metadata);
    }
    WriteChannel channel;
    try {
      channel = storage.get().writer(info.build());
    } catch (StorageException e) {
      throw translate("write", location, e);
    }
    OutputStream toChannel =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
            try {
              while (buffer.hasRemaining()) {
                channel.write(buffer);
              }
            } catch (IOException e) {
              throw unwrapChannelFailure("write", location, e);
            }
          }
        };
    OutputStream out = new BufferedOutputStream(toChannel, 1 << 20);
    return new Upload() {
      private boolean committed;

      @Override
      public OutputStream stream() {
        return out;
      }

      @Override
      public void commit() throws IOException {
        if (committed) {
          throw new IOException("Upload of " + location + " is already committed");
        }
        out.flush();
        try {
          channel.close();
        } catch (IOException e) {
          throw unwrapChannelFailure("write", location, e);
        }
        committed = true;
      }

      @Override
      public void close() {
        // Not committed: the channel stays open and unfinalised on purpose (see the method).
      }
    };
  }

  /**
   * Sends the bytes through a resumable session and finalises it. The channel is deliberately not
   * closed when a write fails: closing finalises the upload, which would publish a truncated
   * object. An abandoned session leaves nothing visible and expires on its own.
   */
  private static void writeResumable(Storage client, BlobInfo info, byte[] bytes)
      throws IOException {
    String location = GcsLocation.PREFIX + info.getBucket() + "/" + info.getName();
    WriteChannel channel = client.writer(info, BlobWriteOption.crc32cMatch());
    ByteBuffer remaining = ByteBuffer.wrap(bytes);
    try {
      while (remaining.hasRemaining()) {
        channel.write(remaining);
      }
      channel.close();
    } catch (IOException e) {
      throw unwrapChannelFailure("write", location, e);
    }
  }

  /** The object's bytes pinned to the generation its metadata get returned. */
  @Override
  public Optional<Versioned> readVersioned(String location) throws IOException {
    GcsLocation at = objectLocation(location);
    Storage client = storage.get();
    try {
      Blob blob = client.get(at.blobId(), BlobGetOption.fields(BlobField.GENERATION));
      if (blob == null) {
        return Optional.empty();
      }
      byte[] bytes = client.readAllBytes(blob.getBlobId());
      return Optional.of(new Versioned(bytes, Long.toString(blob.getGeneration())));
    } catch (StorageException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw translate("read", location, e);
    }
  }

  /**
   * A create with the precondition {@code ifGenerationMatch}: the generation, or 0 (no live object)
   * when {@code generation} is null. A failed precondition (HTTP 412) is an empty result.
   */
  @Override
  public Optional<String> writeIfGeneration(String location, byte[] bytes, String generation)
      throws IOException {
    GcsLocation at = objectLocation(location);
    BlobId id =
        generation == null
            ? at.blobId()
            : BlobId.of(at.bucket(), at.name(), Long.parseLong(generation));
    BlobTargetOption precondition =
        generation == null ? BlobTargetOption.doesNotExist() : BlobTargetOption.generationMatch();
    try {
      Blob blob =
          storage
              .get()
              .create(
                  BlobInfo.newBuilder(id).setContentType("application/json").build(),
                  bytes,
                  precondition);
      return Optional.of(Long.toString(blob.getGeneration()));
    } catch (StorageException e) {
      if (e.getCode() == 412) {
        return Optional.empty();
      }
      throw translate("write", location, e);
    }
  }

  /** A delete with the precondition {@code ifGenerationMatch}. */
  @Override
  public boolean deleteIfGeneration(String location, String generation) throws IOException {
    GcsLocation at = objectLocation(location);
    try {
      return storage
          .get()
          .delete(
              BlobId.of(at.bucket(), at.name(), Long.parseLong(generation)),
              BlobSourceOption.generationMatch());
    } catch (StorageException e) {
      if (e.getCode() == 412 || e.getCode() == 404) {
        return false;
      }
      throw translate("delete", location, e);
    }
  }

  @Override
  public boolean exists(String location) throws IOException {
    GcsLocation at = objectLocation(location);
    try {
      return storage.get().get(at.blobId(), BlobGetOption.fields(BlobField.NAME)) != null;
    } catch (StorageException e) {
      throw translate("check existence of", location, e);
    }
  }

  @Override
  public Optional<Instant> lastModified(String location) throws IOException {
    GcsLocation at = objectLocation(location);
    try {
      Blob blob = storage.get().get(at.blobId(), BlobGetOption.fields(BlobField.UPDATED));
      if (blob == null || blob.getUpdateTimeOffsetDateTime() == null) {
        return Optional.empty();
      }
      return Optional.of(blob.getUpdateTimeOffsetDateTime().toInstant());
    } catch (StorageException e) {
      throw translate("read the update time of", location, e);
    }
  }

  /** One metadata get for the update time and the user metadata. */
  @Override
  public Optional<Stat> stat(String location) throws IOException {
    GcsLocation at = objectLocation(location);
    try {
      Blob blob =
          storage
              .get()
              .get(at.blobId(), BlobGetOption.fields(BlobField.UPDATED, BlobField.METADATA));
      if (blob == null || blob.getUpdateTimeOffsetDateTime() == null) {
        return Optional.empty();
      }
      Map<String, String> metadata = new TreeMap<>();
      if (blob.getMetadata() != null) {
        blob.getMetadata()
            .forEach(
                (k, v) -> {
                  if (k != null && v != null) {
                    metadata.put(k, v);
                  }
                });
      }
      return Optional.of(new Stat(blob.getUpdateTimeOffsetDateTime().toInstant(), metadata));
    } catch (StorageException e) {
      throw translate("read the metadata of", location, e);
    }
  }

  @Override
  public Stream<String> list(String glob) throws IOException {
    GcsLocation at = GcsLocation.parse(glob);
    if (!Globs.hasWildcard(at.name())) {
      if (at.name().isEmpty() || at.name().endsWith("/")) {
        return Stream.empty();
      }
      return exists(glob) ? Stream.of(glob) : Stream.empty();
    }
    String prefix = Globs.literalPrefix(at.name());
    String rest = at.name().substring(prefix.length());
    Pattern pattern = Globs.toPattern(at.name());
    List<BlobListOption> options = new ArrayList<>();
    options.add(BlobListOption.pageSize(pageSize));
    options.add(BlobListOption.fields(BlobField.NAME));
    if (!prefix.isEmpty()) {
      options.add(BlobListOption.prefix(prefix));
    }
    if (!rest.contains("/") && !rest.contains("**")) {
      // The glob stays inside one directory: let the service skip everything below it.
      options.add(BlobListOption.currentDirectory());
    }
    Page<Blob> first;
    try {
      first = storage.get().list(at.bucket(), options.toArray(new BlobListOption[0]));
    } catch (StorageException e) {
      throw translate("list", glob, e);
    }
    Iterator<String> names = new PagedNames(first, glob);
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(
                names, Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.DISTINCT),
            false)
        .filter(name -> !name.endsWith("/") && pattern.matcher(name).matches())
        .map(name -> GcsLocation.PREFIX + at.bucket() + "/" + name);
  }

  /**
   * Checks credentials, bucket and permission with real requests, because only real requests see
   * every rule that applies: IAM conditions on prefixes, VPC Service Controls, retention policies
   * and object ACLs are invisible to {@code testIamPermissions} on the bucket (which also needs
   * nothing the job needs, and which Google's in-memory test double does not implement).
   *
   * <ul>
   *   <li>Read of one object: a metadata get (permission {@code storage.objects.get}); when it is
   *       missing, a one-name list tells a missing bucket from a missing object.
   *   <li>Read of a glob: a one-name list under its literal prefix ({@code storage.objects.list}).
   *   <li>Write under a prefix: creates a 19-byte probe object {@code .odelt-access-check-<uuid>}
   *       under the prefix and deletes it again: {@code storage.objects.create}, and {@code
   *       storage.objects.delete}, which reruns need to overwrite their outputs.
   * </ul>
   */
  @Override
  public void checkAccess(String location, boolean forWrite) throws IOException {
    GcsLocation at = GcsLocation.parse(location);
    Storage client = storage.get();
    if (forWrite) {
      probeWrite(client, at);
    } else if (Globs.hasWildcard(at.name()) || at.name().isEmpty() || at.name().endsWith("/")) {
      probeList(client, at.bucket(), Globs.literalPrefix(at.name()), location);
    } else {
      Blob blob;
      try {
        blob = client.get(at.blobId(), BlobGetOption.fields(BlobField.NAME));
      } catch (StorageException e) {
        throw translate("read", location, e);
      }
      if (blob == null) {
        probeList(client, at.bucket(), at.name(), location);
        throw new FileNotFoundException("No object " + location);
      }
    }
  }

  private static void probeList(Storage client, String bucket, String prefix, String location)
      throws IOException {
    try {
      client.list(
          bucket,
          BlobListOption.prefix(prefix),
          BlobListOption.pageSize(1),
          BlobListOption.fields(BlobField.NAME));
    } catch (StorageException e) {
      if (e.getCode() == 404) {
        throw missingBucket(bucket, location, e);
      }
      throw translate("list", location, e);
    }
  }

  private static void probeWrite(Storage client, GcsLocation at) throws IOException {
    GcsLocation probe = at.withName(at.directoryPrefix() + PROBE_STEM + UUID.randomUUID());
    String where = GcsLocation.PREFIX + at.bucket() + "/" + at.directoryPrefix();
    try {
      client.create(
          BlobInfo.newBuilder(probe.blobId()).setContentType("text/plain").build(),
          "odelt access check\n".getBytes(StandardCharsets.UTF_8));
    } catch (StorageException e) {
      if (e.getCode() == 404) {
        throw missingBucket(at.bucket(), where, e);
      }
      throw translate("write under", where, e);
    }
    try {
      client.delete(probe.blobId());
    } catch (StorageException e) {
      if (e.getCode() == 403) {
        AccessDeniedException denied =
            new AccessDeniedException(
                probe.toString(),
                null,
                "objects can be created under "
                    + where
                    + " but not deleted; reruns overwrite their outputs, which needs"
                    + " storage.objects.delete (e.g. roles/storage.objectUser). The probe object"
                    + " was left behind: "
                    + e.getMessage());
        denied.initCause(e);
        throw denied;
      }
      throw translate("delete the probe object", probe.toString(), e);
    }
  }

  private static FileNotFoundException missingBucket(
      String bucket, String location, StorageException e) {
    FileNotFoundException missing =
        new FileNotFoundException(
            "Bucket gs://"
                + bucket
                + " does not exist (needed for "
                + location
                + "): "
                + e.getMessage());
    missing.initCause(e);
    return missing;
  }

  private static GcsLocation objectLocation(String location) {
    GcsLocation at = GcsLocation.parse(location);
    if (at.name().isEmpty() || at.name().endsWith("/")) {
      throw new IllegalArgumentException("Not an object location (no object name): " + location);
    }
    return at;
  }

  private static String crc32c(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    int value = (int) crc.getValue();
    return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt(value).array());
  }

  /**
   * Turns the client's exception into an {@link IOException} that names the operation, the location
   * and the HTTP status, keeping the client's exception as the cause.
   */
  static IOException translate(String operation, String location, StorageException e) {
    int code = e.getCode();
    String what = "Cannot " + operation + " " + location;
    switch (code) {
      case 404:
        {
          FileNotFoundException missing =
              new FileNotFoundException(what + ": not found (HTTP 404: " + e.getMessage() + ")");
          missing.initCause(e);
          return missing;
        }
      case 403:
        {
          AccessDeniedException denied =
              new AccessDeniedException(
                  location, null, operation + " denied (HTTP 403): " + e.getMessage());
          denied.initCause(e);
          return denied;
        }
      case 401:
        return new IOException(
            what
                + ": not authenticated (HTTP 401: "
                + e.getMessage()
                + "). "
                + GcsClients.CREDENTIALS_HINT,
            e);
      default:
        String status = code == 0 ? "no HTTP status" : "HTTP " + code;
        String retried = e.isRetryable() ? ", after the client's retries ran out" : "";
        return new IOException(what + " (" + status + retried + "): " + e.getMessage(), e);
    }
  }

  /** Channels wrap the client's exception in an IOException; surface it like other failures. */
  static IOException unwrapChannelFailure(String operation, String location, IOException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof StorageException) {
        return translate(operation, location, (StorageException) cause);
      }
    }
    return new IOException("Cannot " + operation + " " + location + ": " + e.getMessage(), e);
  }

  /** Holds the client, creating it once on first use; creation failures are not cached. */
  private static final class LazyStorage {
    private final StorageFactory factory;
    private volatile Storage storage;

    LazyStorage(StorageFactory factory) {
      this.factory = factory;
    }

    Storage get() throws IOException {
      Storage current = storage;
      if (current == null) {
        synchronized (this) {
          current = storage;
          if (current == null) {
            current = factory.create();
            storage = current;
          }
        }
      }
      return current;
    }
  }

  /** Walks the pages of a listing one at a time, fetching the next page only when needed. */
  private static final class PagedNames implements Iterator<String> {
    private final String glob;
    private Page<Blob> page;
    private Iterator<Blob> values;

    PagedNames(Page<Blob> first, String glob) {
      this.glob = glob;
      this.page = first;
      this.values = first.getValues().iterator();
    }

    @Override
    public boolean hasNext() {
      while (!values.hasNext()) {
        if (!page.hasNextPage()) {
          return false;
        }
        try {
          page = page.getNextPage();
        } catch (StorageException e) {
          throw new UncheckedIOException(translate("list", glob, e));
        }
        values = page.getValues().iterator();
      }
      return true;
    }

    @Override
    public String next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return values.next().getName();
    }
  }

  /** Maps the client's exceptions raised while reading to the store's exceptions. */
  private static final class TranslatingInputStream extends FilterInputStream {
    private final String location;

    TranslatingInputStream(InputStream in, String location) {
      super(in);
      this.location = location;
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        throw unwrapChannelFailure("read", location, e);
      } catch (StorageException e) {
        throw translate("read", location, e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException e) {
        throw unwrapChannelFailure("read", location, e);
      } catch (StorageException e) {
        throw translate("read", location, e);
      }
    }
  }
}
