package dev.odelt.storage.gcs;

import com.google.api.client.http.HttpExecuteInterceptor;
import com.google.api.client.http.HttpTransport;
import com.google.api.client.json.gson.GsonFactory;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.services.storage.model.StorageObject;
import com.google.cloud.NoCredentials;
import com.google.cloud.Tuple;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageException;
import com.google.cloud.storage.StorageOptions;
import com.google.cloud.storage.StorageRetryStrategy;
import com.google.cloud.storage.contrib.nio.testing.LocalStorageHelper;
import com.google.cloud.storage.spi.v1.StorageRpc;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Google's in-memory Cloud Storage ({@link LocalStorageHelper}) seen through the real client, with
 * two additions at the wire level (the {@link StorageRpc} under the client, so the client's own
 * retry logic runs on top of them):
 *
 * <ul>
 *   <li>generations and {@code ifGenerationMatch} preconditions on creates and deletes, which the
 *       double ignores (the lease relies on them);
 *   <li>faults: a request can be made to fail once or always with a given {@code StorageException},
 *       and every request is counted;
 *   <li>listing with the service's semantics: names in lexicographic order and real page tokens.
 *       Google's double returns one unordered page and ignores page tokens.
 * </ul>
 */
final class InMemoryGcs {

  /** Attempts per request the client makes before giving up (retry delays are milliseconds). */
  static final int MAX_ATTEMPTS = 3;

  private final StorageRpc fake;
  private final Map<String, Deque<RuntimeException>> onceFaults = new ConcurrentHashMap<>();
  private final Map<String, Fault> permanentFaults = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final Deque<IOException> downloadFaults = new ConcurrentLinkedDeque<>();
  private final AtomicInteger downloads = new AtomicInteger();
  private final Storage storage;
  private volatile com.google.api.services.storage.Storage http;
  private final Map<String, Long> generations = new HashMap<>();
  private final AtomicLong nextGeneration = new AtomicLong(1_000);

  InMemoryGcs() {
    this.fake = (StorageRpc) LocalStorageHelper.customOptions(false).getRpc();
    StorageRpc wire =
        (StorageRpc)
            Proxy.newProxyInstance(
                StorageRpc.class.getClassLoader(), new Class<?>[] {StorageRpc.class}, this::invoke);
    RetrySettings fast =
        RetrySettings.newBuilder()
            .setMaxAttempts(MAX_ATTEMPTS)
            .setInitialRetryDelayDuration(Duration.ofMillis(1))
            .setRetryDelayMultiplier(2.0)
            .setMaxRetryDelayDuration(Duration.ofMillis(5))
            .setTotalTimeoutDuration(Duration.ofSeconds(30))
            .setInitialRpcTimeoutDuration(Duration.ofSeconds(30))
            .setMaxRpcTimeoutDuration(Duration.ofSeconds(30))
            .build();
    this.storage =
        StorageOptions.newBuilder()
            .setProjectId("odelt-test")
            .setCredentials(NoCredentials.getInstance())
            .setServiceRpcFactory(options -> wire)
            .setRetrySettings(fast)
            .setStorageRetryStrategy(StorageRetryStrategy.getUniformStorageRetryStrategy())
            .build()
            .getService();
  }

  /** The client on the in-memory service. */
  Storage storage() {
    return storage;
  }

  /** Makes the next call of the {@link StorageRpc} method {@code method} throw {@code fault}. */
  void failNext(String method, RuntimeException fault) {
    onceFaults.computeIfAbsent(method, m -> new ConcurrentLinkedDeque<>()).add(fault);
  }

  /**
   * Makes every call of the {@link StorageRpc} method {@code method} throw a new exception from
   * {@code fault} (a new one each time, as from a real service: the client chains them).
   */
  void failAlways(String method, Supplier<RuntimeException> fault) {
    failAlways(method, name -> true, fault);
  }

  /**
   * Like {@link #failAlways(String, Supplier)}, but only for calls whose first argument is an
   * object ({@code StorageObject}) with a name {@code objectName} accepts.
   */
  void failAlways(String method, Predicate<String> objectName, Supplier<RuntimeException> fault) {
    permanentFaults.put(method, new Fault(objectName, fault));
  }

  /** How many times the {@link StorageRpc} method was called (including failed attempts). */
  int calls(String method) {
    AtomicInteger count = calls.get(method);
    return count == null ? 0 : count.get();
  }

  /**
   * Makes the next media download (the HTTP request behind {@link Storage#reader}) fail with {@code
   * fault} before it reaches the service, as a dropped connection would.
   */
  void failNextDownload(IOException fault) {
    downloadFaults.add(fault);
  }

  /** Media downloads attempted, failed ones included. */
  int downloads() {
    return downloads.get();
  }

  /** The JSON API client the reader uses, on the double's transport, with download faults. */
  private com.google.api.services.storage.Storage http() {
    if (http == null) {
      HttpTransport transport = fake.getStorage().getRequestFactory().getTransport();
      HttpExecuteInterceptor faults =
          request -> {
            if (request.getUrl().toString().contains("alt=media")) {
              downloads.incrementAndGet();
              IOException fault = downloadFaults.poll();
              if (fault != null) {
                throw fault;
              }
            }
          };
      http =
          new com.google.api.services.storage.Storage(
              transport,
              GsonFactory.getDefaultInstance(),
              request -> request.setInterceptor(faults));
    }
    return http;
  }

  private Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    if (name.equals("getStorage")) {
      return http();
    }
    calls.computeIfAbsent(name, m -> new AtomicInteger()).incrementAndGet();
    Deque<RuntimeException> once = onceFaults.get(name);
    RuntimeException fault = once == null ? null : once.poll();
    Fault permanent = permanentFaults.get(name);
    if (fault == null && permanent != null && permanent.appliesTo(args)) {
      fault = permanent.fault().get();
    }
    if (fault != null) {
      throw fault;
    }
    if ((name.equals("create") || name.equals("delete"))
        && args != null
        && args.length >= 2
        && args[0] instanceof StorageObject object) {
      @SuppressWarnings("unchecked")
      Map<StorageRpc.Option, ?> options = (Map<StorageRpc.Option, ?>) args[args.length - 1];
      return withGeneration(name, object, options, method, args);
    }
    if (name.equals("list") && args != null && args.length == 2 && args[0] instanceof String) {
      @SuppressWarnings("unchecked")
      Map<StorageRpc.Option, ?> options = (Map<StorageRpc.Option, ?>) args[1];
      return listPage((String) args[0], options);
    }
    try {
      return method.invoke(fake, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /**
   * Generations and the {@code ifGenerationMatch} precondition of single-request creates and of
   * deletes, which Google's double neither assigns nor checks: each create gets a new generation
   * (also set on the stored object, so gets and pinned reads see it); a create or delete whose
   * precondition does not hold fails with HTTP 412, as on the service (0: no live object). Check
   * and write are one step (under a lock), as on the service.
   */
  private Object withGeneration(
      String name,
      StorageObject object,
      Map<StorageRpc.Option, ?> options,
      Method method,
      Object[] args)
      throws Throwable {
    String key = object.getBucket() + "/" + object.getName();
    synchronized (generations) {
      Object wanted = options == null ? null : options.get(StorageRpc.Option.IF_GENERATION_MATCH);
      if (wanted != null) {
        long want = ((Number) wanted).longValue();
        StorageObject now =
            fake.get(
                new StorageObject().setBucket(object.getBucket()).setName(object.getName()),
                Map.of());
        long current = now == null ? 0 : generations.getOrDefault(key, -1L);
        if (want != current) {
          throw new StorageException(
              412, "Precondition Failed: ifGenerationMatch " + want + ", generation " + current);
        }
      }
      Object result;
      try {
        result = method.invoke(fake, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
      if (name.equals("create")) {
        long generation = nextGeneration.incrementAndGet();
        generations.put(key, generation);
        ((StorageObject) result).setGeneration(generation);
      } else {
        generations.remove(key);
      }
      return result;
    }
  }

  private Tuple<String, Iterable<StorageObject>> listPage(
      String bucket, Map<StorageRpc.Option, ?> options) {
    Map<StorageRpc.Option, Object> rest = new EnumMap<>(StorageRpc.Option.class);
    rest.putAll(options);
    String token = (String) rest.remove(StorageRpc.Option.PAGE_TOKEN);
    Long maxResults = (Long) rest.remove(StorageRpc.Option.MAX_RESULTS);
    List<StorageObject> all = new ArrayList<>();
    fake.list(bucket, rest).y().forEach(all::add);
    all.sort(Comparator.comparing(StorageObject::getName));
    int start = token == null ? 0 : Integer.parseInt(token);
    int end = maxResults == null ? all.size() : (int) Math.min(all.size(), start + maxResults);
    String next = end < all.size() ? Integer.toString(end) : null;
    return Tuple.of(next, new ArrayList<>(all.subList(start, end)));
  }

  private record Fault(Predicate<String> objectName, Supplier<RuntimeException> fault) {
    boolean appliesTo(Object[] args) {
      if (args == null || args.length == 0 || !(args[0] instanceof StorageObject)) {
        return true;
      }
      return objectName.test(((StorageObject) args[0]).getName());
    }
  }

  /**
   * A client that behaves like {@code delegate} except that the {@link Storage} method {@code
   * method} throws {@code fault}: faults above the client, where the client does not retry.
   */
  static Storage failingAtBoundary(Storage delegate, String method, RuntimeException fault) {
    InvocationHandler handler =
        (proxy, m, args) -> {
          if (m.getName().equals(method)) {
            throw fault;
          }
          try {
            return m.invoke(delegate, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        };
    return (Storage)
        Proxy.newProxyInstance(
            Storage.class.getClassLoader(), new Class<?>[] {Storage.class}, handler);
  }
}
