package dev.odelt.storage.gcs;

import com.google.api.gax.retrying.RetrySettings;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import com.google.cloud.storage.StorageRetryStrategy;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the production {@link Storage} client: Application Default Credentials, the client's
 * default {@link RetrySettings} and the uniform retry strategy.
 *
 * <p>Retries (all in Google's client, per request): up to 6 attempts, the first retry after about 1
 * s, each delay doubled (jittered) up to 32 s, at most 50 s per operation in total. The uniform
 * strategy retries HTTP 408, 429, 500, 502, 503, 504 and connection resets or timeouts for every
 * operation, uploads included. The client's default strategy would not retry an upload without a
 * generation precondition because the upload might not be idempotent; here every write replaces an
 * object by the same bytes (output names are a pure function of the request), so retrying it is
 * safe. When the attempts run out the client throws the last error, which {@link GcsObjectStore}
 * turns into an {@link IOException} naming the object.
 *
 * <p>Credentials are never logged; only their type is.
 */
final class GcsClients {

  private static final Logger LOG = LoggerFactory.getLogger(GcsClients.class);

  static final String CREDENTIALS_HINT =
      "Cloud Storage uses Application Default Credentials: run `gcloud auth application-default"
          + " login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or run"
          + " with a service account attached to the VM or pod (Workload Identity)";

  /** Loads credentials; a seam so tests can simulate a machine without any. */
  @FunctionalInterface
  interface CredentialsLoader {
    GoogleCredentials load() throws IOException;
  }

  private GcsClients() {}

  /** The retry settings every production client uses: the client library's defaults. */
  static RetrySettings retrySettings() {
    return StorageOptions.getDefaultRetrySettings();
  }

  /**
   * A client with Application Default Credentials.
   *
   * @param projectId the project for billing and quota, or null for the client's default ({@code
   *     GOOGLE_CLOUD_PROJECT}, then the project of the credentials)
   * @throws IOException when no credentials can be found, with instructions
   */
  static Storage defaultStorage(String projectId) throws IOException {
    return build(projectId, GoogleCredentials::getApplicationDefault);
  }

  static Storage build(String projectId, CredentialsLoader credentialsLoader) throws IOException {
    GoogleCredentials credentials;
    try {
      credentials = credentialsLoader.load();
    } catch (IOException e) {
      throw new IOException(
          "No Google Cloud credentials found for gs:// locations ("
              + e.getMessage()
              + "). "
              + CREDENTIALS_HINT,
          e);
    }
    StorageOptions.Builder builder =
        StorageOptions.http()
            .setCredentials(credentials)
            .setRetrySettings(retrySettings())
            .setStorageRetryStrategy(StorageRetryStrategy.getUniformStorageRetryStrategy());
    if (projectId != null && !projectId.isBlank()) {
      builder.setProjectId(projectId);
    }
    StorageOptions options = builder.build();
    LOG.info(
        "Cloud Storage client: project {}, {} credentials",
        options.getProjectId(),
        credentials.getClass().getSimpleName());
    return options.getService();
  }
}
