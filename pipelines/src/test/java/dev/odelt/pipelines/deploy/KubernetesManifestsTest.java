package dev.odelt.pipelines.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.odelt.pipelines.GenerateOptions;
import io.kubernetes.client.openapi.models.V1CronJob;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Validates every manifest under deploy/k8s offline, as {@code kubectl apply --validate=strict}
 * would: {@code FlinkDeployment}s against the Flink Kubernetes Operator's own CRD schema (from
 * {@code flink-kubernetes-operator-api}, with unknown fields rejected), the built-in kinds
 * (CronJob, ServiceAccount, …) against the Kubernetes Java client's generated batch/v1, core/v1 and
 * rbac/v1 models, which reject unknown fields and wrong types. Each check is shown to catch a
 * misspelled field.
 */
class KubernetesManifestsTest {

  private static final Path K8S = Path.of("..", "deploy", "k8s");
  private static final String CRD = "META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml";
  private static final ObjectMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Gson GSON = new Gson();

  private static JsonSchema flinkDeploymentSchema;

  @BeforeAll
  static void loadCrdSchema() throws IOException {
    JsonNode crd;
    try (InputStream in = KubernetesManifestsTest.class.getClassLoader().getResourceAsStream(CRD)) {
      assertNotNull(in, "CRD schema on the test class path: " + CRD);
      crd = YAML.readTree(in);
    }
    JsonNode schema = null;
    for (JsonNode version : crd.path("spec").path("versions")) {
      if (version.path("name").asText().equals("v1beta1")) {
        schema = version.path("schema").path("openAPIV3Schema").deepCopy();
      }
    }
    assertTrue(schema != null && schema.isObject(), "v1beta1 schema in " + CRD);
    // The API server supplies these to every custom resource; metadata is checked separately.
    ObjectNode root = (ObjectNode) schema.get("properties");
    root.putObject("apiVersion").put("type", "string");
    root.putObject("kind").put("type", "string");
    root.putObject("metadata")
        .put("type", "object")
        .put("x-kubernetes-preserve-unknown-fields", true);
    closeObjects(schema);
    flinkDeploymentSchema =
        JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schema);
  }

  /**
   * Kubernetes prunes fields a structural schema does not declare; strict validation reports them.
   * Closing every object that lists its properties (and does not preserve unknown fields) makes the
   * JSON-schema validator report them too.
   */
  private static void closeObjects(JsonNode node) {
    if (node instanceof ObjectNode object) {
      if (object.has("properties")
          && !object.has("additionalProperties")
          && !object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
        object.put("additionalProperties", false);
      }
      object.elements().forEachRemaining(KubernetesManifestsTest::closeObjects);
    } else if (node != null && node.isArray()) {
      node.elements().forEachRemaining(KubernetesManifestsTest::closeObjects);
    }
  }

  private record Doc(Path file, JsonNode node) {
    String kind() {
      return node.path("kind").asText();
    }

    @Override
    public String toString() {
      return file.getFileName() + " (" + kind() + " " + node.path("metadata").path("name") + ")";
    }
  }

  private static List<Doc> documents() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(K8S)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().collect(Collectors.toList());
    }
    assertFalse(files.isEmpty(), "manifests in " + K8S.toAbsolutePath());
    List<Doc> docs = new ArrayList<>();
    for (Path file : files) {
      try (var parser = new YAMLFactory().createParser(file.toFile())) {
        Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class);
        while (it.hasNext()) {
          JsonNode node = it.next();
          if (node != null && !node.isMissingNode() && !node.isNull()) {
            docs.add(new Doc(file, node));
          }
        }
      }
    }
    return docs;
  }

  /** Problems of one manifest document; empty when valid. */
  private static List<String> problems(JsonNode node) throws IOException {
    String kind = node.path("kind").asText();
    String apiVersion = node.path("apiVersion").asText();
    if (kind.equals("FlinkDeployment")) {
      if (!apiVersion.equals("flink.apache.org/v1beta1")) {
        return List.of("apiVersion " + apiVersion + " is not flink.apache.org/v1beta1");
      }
      List<String> out = new ArrayList<>();
      for (ValidationMessage m : flinkDeploymentSchema.validate(node)) {
        out.add(m.getMessage());
      }
      try {
        V1ObjectMeta.validateJsonElement(
            JsonParser.parseString(JSON.writeValueAsString(node.path("metadata"))));
      } catch (IllegalArgumentException e) {
        out.add("metadata: " + e.getMessage());
      }
      return out.stream().sorted().toList();
    }
    JsonElement json = JsonParser.parseString(JSON.writeValueAsString(node));
    try {
      switch (kind) {
        case "CronJob" -> {
          requireApiVersion(apiVersion, "batch/v1");
          V1CronJob.validateJsonElement(json); // names: unknown fields, required fields
          GSON.fromJson(json, V1CronJob.class); // types: a string where a number belongs
        }
        case "Namespace" -> {
          requireApiVersion(apiVersion, "v1");
          V1Namespace.validateJsonElement(json);
        }
        case "ServiceAccount" -> {
          requireApiVersion(apiVersion, "v1");
          V1ServiceAccount.validateJsonElement(json);
        }
        case "Secret" -> {
          requireApiVersion(apiVersion, "v1");
          V1Secret.validateJsonElement(json);
        }
        case "Role" -> {
          requireApiVersion(apiVersion, "rbac.authorization.k8s.io/v1");
          V1Role.validateJsonElement(json);
        }
        case "RoleBinding" -> {
          requireApiVersion(apiVersion, "rbac.authorization.k8s.io/v1");
          V1RoleBinding.validateJsonElement(json);
        }
        default -> {
          return List.of("no validator for kind '" + kind + "'");
        }
      }
    } catch (IllegalArgumentException | JsonParseException e) {
      return List.of(e.getMessage());
    }
    return List.of();
  }

  private static void requireApiVersion(String actual, String expected) {
    if (!actual.equals(expected)) {
      throw new IllegalArgumentException("apiVersion " + actual + " is not " + expected);
    }
  }

  @Test
  void everyManifestIsValid() throws IOException {
    List<Doc> docs = documents();
    for (Doc doc : docs) {
      assertEquals(List.of(), problems(doc.node()), doc.toString());
    }
    Set<String> kinds = docs.stream().map(Doc::kind).collect(Collectors.toSet());
    assertTrue(
        kinds.containsAll(Set.of("FlinkDeployment", "CronJob", "ServiceAccount", "Secret")),
        "kinds present: " + kinds);
  }

  private static JsonNode find(String kind, String name) throws IOException {
    return documents().stream()
        .filter(d -> d.kind().equals(kind))
        .filter(d -> d.node().path("metadata").path("name").asText().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name))
        .node()
        .deepCopy();
  }

  @Test
  void misspelledOrMistypedFlinkDeploymentFieldsAreCaught() throws IOException {
    ObjectNode app = (ObjectNode) find("FlinkDeployment", "odelt-generate");
    ObjectNode spec = (ObjectNode) app.get("spec");
    spec.set("flinkConfigurtion", spec.remove("flinkConfiguration"));
    assertFalse(problems(app).isEmpty(), "misspelled spec.flinkConfiguration");

    ObjectNode job =
        (ObjectNode) find("FlinkDeployment", "odelt-generate").path("spec").path("job");
    ObjectNode app2 = (ObjectNode) find("FlinkDeployment", "odelt-generate");
    job.put("entryClas", job.remove("entryClass").asText());
    ((ObjectNode) app2.get("spec")).set("job", job);
    assertFalse(problems(app2).isEmpty(), "misspelled spec.job.entryClass");

    ObjectNode app3 = (ObjectNode) find("FlinkDeployment", "odelt-generate");
    ((ObjectNode) app3.get("spec").get("job")).put("parallelism", "four");
    assertFalse(problems(app3).isEmpty(), "string parallelism");

    ObjectNode app4 = (ObjectNode) find("FlinkDeployment", "odelt-generate");
    ((ObjectNode) app4.get("spec")).put("flinkVersion", "v1_99");
    assertFalse(problems(app4).isEmpty(), "unknown Flink version");
  }

  @Test
  void misspelledCronJobFieldsAreCaught() throws IOException {
    ObjectNode cron = (ObjectNode) find("CronJob", "odelt-nightly");
    ObjectNode podSpec =
        (ObjectNode)
            cron.path("spec").path("jobTemplate").path("spec").path("template").path("spec");
    podSpec.put("restartPolicyy", podSpec.remove("restartPolicy").asText());
    assertFalse(problems(cron).isEmpty(), "misspelled restartPolicy");

    ObjectNode cron2 = (ObjectNode) find("CronJob", "odelt-nightly");
    ((ObjectNode) cron2.get("spec")).put("schedul", "0 2 * * *");
    assertFalse(problems(cron2).isEmpty(), "misspelled schedule");

    ObjectNode cron3 = (ObjectNode) find("CronJob", "odelt-nightly");
    ((ObjectNode) cron3.get("spec").get("jobTemplate").get("spec")).put("backoffLimit", "once");
    assertFalse(problems(cron3).isEmpty(), "string backoffLimit");
  }

  @Test
  void applicationEntryClassAndArgumentsAreTheJobs() throws Exception {
    JsonNode job = find("FlinkDeployment", "odelt-generate").path("spec").path("job");
    Class<?> entry = Class.forName(job.path("entryClass").asText());
    Method main = entry.getMethod("main", String[].class);
    assertTrue(Modifier.isStatic(main.getModifiers()));
    assertTrue(job.path("jarURI").asText().endsWith("/odelt-pipelines.jar"));
    List<String> args = new ArrayList<>();
    job.path("args").forEach(a -> args.add(a.asText()));
    // Every flag is one of the job's options: a typo would fail the deployment at start.
    GenerateOptions options =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(GenerateOptions.class);
    assertTrue(options.getRequests().startsWith("gs://"), options.getRequests());
    assertTrue(options.getOutput().startsWith("gs://"), options.getOutput());
  }

  @Test
  void gpuDeploymentGivesEachTaskManagerOneGpuAndOneSlot() throws Exception {
    JsonNode spec = find("FlinkDeployment", "odelt-generate-gpu").path("spec");
    assertEquals(
        "1", spec.path("flinkConfiguration").path("taskmanager.numberOfTaskSlots").asText());
    JsonNode pod = spec.path("taskManager").path("podTemplate");
    // The pod template as core/v1 checks it: unknown fields and wrong types fail.
    V1Pod.validateJsonElement(JsonParser.parseString(JSON.writeValueAsString(pod)));
    GSON.fromJson(JSON.writeValueAsString(pod), V1Pod.class);
    JsonNode container = pod.path("spec").path("containers").get(0);
    assertEquals("flink-main-container", container.path("name").asText());
    assertEquals(1, container.path("resources").path("limits").path("nvidia.com/gpu").asInt());
    boolean tolerates = false;
    for (JsonNode t : pod.path("spec").path("tolerations")) {
      tolerates |= t.path("key").asText().equals("nvidia.com/gpu");
    }
    assertTrue(tolerates, "tolerates the GPU nodes' taint");
    assertTrue(pod.path("spec").path("nodeSelector").size() > 0, "selects GPU nodes");
    assertTrue(spec.path("image").asText().contains("cu124"), spec.path("image").asText());
    List<String> args = new ArrayList<>();
    spec.path("job").path("args").forEach(a -> args.add(a.asText()));
    GenerateOptions options =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(GenerateOptions.class);
    assertEquals("gpu", options.getDevice());
    assertEquals(1, options.getTorchThreads());

    ObjectNode misspelled = (ObjectNode) find("FlinkDeployment", "odelt-generate-gpu");
    ObjectNode podSpec =
        (ObjectNode) misspelled.path("spec").path("taskManager").path("podTemplate").path("spec");
    podSpec.set("tolerashions", podSpec.remove("tolerations"));
    List<String> caught = new ArrayList<>();
    try {
      V1Pod.validateJsonElement(
          JsonParser.parseString(
              JSON.writeValueAsString(
                  misspelled.path("spec").path("taskManager").path("podTemplate"))));
    } catch (IllegalArgumentException e) {
      caught.add(e.getMessage());
    }
    assertFalse(caught.isEmpty(), "a misspelled pod template field is caught");
  }

  @Test
  void deploymentsRecoverFromALostTaskManager() throws IOException {
    for (String name : List.of("odelt-generate", "odelt-generate-gpu", "odelt-session")) {
      JsonNode conf = find("FlinkDeployment", name).path("spec").path("flinkConfiguration");
      Map<String, String> c = new java.util.TreeMap<>();
      conf.fields().forEachRemaining(e -> c.put(e.getKey(), e.getValue().asText()));
      assertEquals("fixed-delay", c.get("restart-strategy.type"), name);
      assertTrue(Integer.parseInt(c.get("restart-strategy.fixed-delay.attempts")) > 0, name);
      assertEquals("region", c.get("jobmanager.execution.failover-strategy"), name);
      assertEquals("ai.djl.", c.get("classloader.parent-first-patterns.additional"), name);
    }
  }

  @Test
  void cronJobResumesADatedRunOnTheSessionCluster() throws IOException {
    JsonNode container =
        find("CronJob", "odelt-nightly")
            .path("spec")
            .path("jobTemplate")
            .path("spec")
            .path("template")
            .path("spec")
            .path("containers")
            .get(0);
    String script = container.path("args").get(0).asText();
    assertTrue(script.contains("--resume"), script);
    assertTrue(script.contains("--flinkMaster=odelt-session-rest:8081"), script);
    assertTrue(script.contains("date -u +%F"), script);
    assertEquals("[\"/bin/sh\",\"-c\"]", container.path("command").toString());
  }
}
