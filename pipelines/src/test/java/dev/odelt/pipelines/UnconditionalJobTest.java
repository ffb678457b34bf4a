package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.RejectReason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job on an unconditional model (null label only), on the DirectRunner. */
class UnconditionalJobTest {

  @TempDir Path sandbox;

  @Test
  void requestsWithoutSubjectGenerateAndSubjectsOrGuidanceAreDeadLetters() throws Exception {
    String model = TestModels.writeUnconditionalPackage(sandbox.resolve("model"), 8);
    Path in = Files.createDirectories(sandbox.resolve("in"));
    Files.writeString(
        in.resolve("faces.jsonl"),
        String.join(
            "\n",
            "{\"request_id\":\"faces\",\"num_images\":3,\"tier_name\":\"draft\"}",
            "{\"request_id\":\"more\",\"num_images\":2}",
            "{\"request_id\":\"with-class\",\"class_id\":0}",
            "{\"request_id\":\"with-prompt\",\"prompt\":\"a smiling face\"}",
            "{\"request_id\":\"guided\",\"tier\":{\"steps\":2,\"blocks\":2,\"guidance\":1.5}}",
            ""));
    Files.writeString(in.resolve("faces.csv"), "count\n2\n");
    Path out = sandbox.resolve("out");
    JobFixtures.Run run =
        JobFixtures.cli(
            "--requests=" + in + "/*",
            "--output=" + out,
            "--model=" + model,
            "--device=cpu",
            "--runner=DirectRunner",
            "--maxBatchSize=4");
    assertEquals(GenerateJob.EXIT_REJECTS, run.exitCode(), run.console());

    List<ImageRecord> records = GenerateJobFlinkTest.records(out);
    assertEquals(7, records.size());
    for (ImageRecord r : records) {
      assertFalse(r.hasClassId(), "no class for an unconditional model: " + r);
      assertEquals("", r.getClassLabel());
    }
    Map<String, String> images = JobFixtures.tree(out, "images");
    assertEquals(7, images.size());
    try (Stream<Path> shards = Files.list(out.resolve("records"))) {
      for (Path shard : shards.toList()) {
        for (String line : Files.readAllLines(shard)) {
          assertFalse(line.contains("\"class_id\""), line);
        }
      }
    }

    List<DeadLetter> dead = new ArrayList<>();
    for (String line : JobFixtures.shardLines(out, "errors/dead-letters-*.jsonl")) {
      DeadLetter.Builder b = DeadLetter.newBuilder();
      JsonFormat.parser().merge(line, b);
      dead.add(b.build());
    }
    assertEquals(3, dead.size(), dead.toString());
    assertEquals(
        List.of(
            RejectReason.SUBJECT_FOR_UNCONDITIONAL_MODEL,
            RejectReason.SUBJECT_FOR_UNCONDITIONAL_MODEL,
            RejectReason.GUIDANCE_FOR_UNCONDITIONAL_MODEL),
        dead.stream()
            .sorted((a, b) -> Long.compare(a.getLine(), b.getLine()))
            .map(DeadLetter::getReason)
            .toList());
    assertTrue(dead.get(0).getMessage().contains("unconditional"), dead.get(0).getMessage());
  }

  @Test
  void datasetsOfAnUnconditionalModelCarryNoLabel() throws Exception {
    String model = TestModels.writeUnconditionalPackage(sandbox.resolve("model"), 8);
    Path in = Files.createDirectories(sandbox.resolve("in"));
    Files.writeString(in.resolve("faces.csv"), "count\n5\n");
    for (String format : List.of("parquet", "webdataset")) {
      Path out = sandbox.resolve(format);
      JobFixtures.Run run =
          JobFixtures.cli(
              "--requests=" + in + "/*",
              "--output=" + out,
              "--model=" + model,
              "--device=cpu",
              "--runner=DirectRunner",
              "--maxBatchSize=4",
              "--format=" + format);
      assertEquals(GenerateJob.EXIT_OK, run.exitCode(), run.console());
    }
    try (java.sql.Connection db = java.sql.DriverManager.getConnection("jdbc:duckdb:");
        java.sql.Statement sql = db.createStatement();
        java.sql.ResultSet rows =
            sql.executeQuery(
                "SELECT count(*), count(label), count(label_name) FROM read_parquet('"
                    + sandbox.resolve("parquet")
                    + "/dataset/*/*.parquet')")) {
      assertTrue(rows.next());
      assertEquals(List.of(5L, 0L, 0L), List.of(rows.getLong(1), rows.getLong(2), rows.getLong(3)));
    }
    List<String> members = new java.util.ArrayList<>();
    try (Stream<Path> tars = Files.walk(sandbox.resolve("webdataset/dataset"))) {
      for (Path tar : tars.filter(p -> p.toString().endsWith(".tar")).toList()) {
        try (var entries =
            new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                Files.newInputStream(tar))) {
          for (var e = entries.getNextEntry(); e != null; e = entries.getNextEntry()) {
            members.add(e.getName().substring(e.getName().indexOf('.') + 1));
          }
        }
      }
    }
    assertEquals(15, members.size(), members.toString());
    assertFalse(members.contains("cls"), "no .cls member without a class");
  }
}
