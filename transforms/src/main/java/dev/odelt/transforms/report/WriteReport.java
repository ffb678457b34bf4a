package dev.odelt.transforms.report;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Plan;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import dev.odelt.transforms.io.OutputLayout;
import dev.odelt.transforms.io.WriteDeadLetters;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Top;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Writes {@code report.html} ({@link ReportPage}) once a run or a plan is summarised.
 *
 * <p>Input: either {@link #RUN} (the {@link RunSummary} that {@code WriteAccounting} wrote) with
 * {@link #PREVIEWS} (the contact sheets written, whose PNGs are inlined), or {@link #PLAN} (the
 * {@link Plan} of {@code WritePlan}; the page is then a quote); and {@link #DEAD_LETTERS}. Only
 * bounded data reaches the writer: the summary (per tier), the preview locations (per tier) and the
 * first {@code k} dead letters of each reason by (source, line) order, kept by a {@link Top}
 * combine. Output: the location written.
 */
public final class WriteReport extends PTransform<PCollectionTuple, PCollection<String>> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<RunSummary> RUN = new TupleTag<RunSummary>() {};
  public static final TupleTag<Plan> PLAN = new TupleTag<Plan>() {};
  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<DeadLetter>() {};
  public static final TupleTag<String> PREVIEWS = new TupleTag<String>() {};

  public static final String REPORT_HTML = "report.html";

  /** Dead letters shown per reason unless {@link #withSamplesPerReason} says otherwise. */
  public static final int DEFAULT_SAMPLES = 3;

  private final String outputRoot;
  private final ModelManifest manifest;
  private final int samples;

  private WriteReport(String outputRoot, ModelManifest manifest, int samples) {
    this.outputRoot = outputRoot;
    this.manifest = manifest;
    this.samples = samples;
  }

  /**
   * Writes {@code report.html} under {@code outputRoot} for a run of the model of {@code manifest}.
   */
  public static WriteReport to(String outputRoot, ModelManifest manifest) {
    if (outputRoot == null || outputRoot.isEmpty()) {
      throw new IllegalArgumentException("outputRoot must not be empty");
    }
    return new WriteReport(outputRoot, manifest, DEFAULT_SAMPLES);
  }

  /** Shows the first {@code count} dead letters of each reason (1 … 100). */
  public WriteReport withSamplesPerReason(int count) {
    if (count < 1 || count > 100) {
      throw new IllegalArgumentException("samples per reason must be in [1, 100], got " + count);
    }
    return new WriteReport(outputRoot, manifest, count);
  }

  @Override
  public PCollection<String> expand(PCollectionTuple input) {
    boolean quote = input.has(PLAN);
    if (quote == input.has(RUN)) {
      throw new IllegalArgumentException("WriteReport needs exactly one of RUN and PLAN");
    }
    PCollectionView<Map<String, List<DeadLetter>>> deadLetters =
        input
            .get(DEAD_LETTERS)
            .apply(
                "KeyByReason",
                WithKeys.of((DeadLetter d) -> d.getReason().name())
                    .withKeyType(TypeDescriptors.strings()))
            .apply("FirstPerReason", Top.perKey(samples, new EarliestFirst()))
            .apply("SamplesView", View.asMap());
    PCollection<String> previewLocations =
        input.has(PREVIEWS)
            ? input.get(PREVIEWS)
            : input.getPipeline().apply("NoPreviews", Create.empty(StringUtf8Coder.of()));
    PCollectionView<List<String>> previews = previewLocations.apply("PreviewsView", View.asList());
    PCollection<Plan> summaries =
        quote
            ? input.get(PLAN)
            : input
                .get(RUN)
                .apply(
                    "AsSummary",
                    MapElements.into(TypeDescriptor.of(Plan.class))
                        .via((RunSummary s) -> Plan.newBuilder().setSummary(s).build()));
    return summaries.apply(
        "Render",
        ParDo.of(new RenderFn(outputRoot, manifest, quote, deadLetters, previews))
            .withSideInputs(deadLetters, previews));
  }

  /** Orders dead letters so that the one earliest by (source, line, reason) is the "largest". */
  static final class EarliestFirst implements Comparator<DeadLetter>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(DeadLetter a, DeadLetter b) {
      return -WriteDeadLetters.ORDER.compare(a, b);
    }
  }

  /**
   * The runs in the output's history ({@code runs/*.json}, written by WriteAccounting before this
   * page), oldest first; a file that does not parse is left out.
   */
  static List<RunSummary> history(ObjectStore store, String outputRoot) throws IOException {
    List<RunSummary> runs = new ArrayList<>();
    List<String> files;
    try (Stream<String> listed =
        store.list(ObjectStore.resolve(outputRoot, OutputLayout.RUNS_PREFIX + "*.json"))) {
      files = listed.collect(Collectors.toList());
    }
    for (String file : files) {
      RunSummary.Builder run = RunSummary.newBuilder();
      try {
        JsonFormat.parser()
            .ignoringUnknownFields()
            .merge(new String(store.readAllBytes(file), StandardCharsets.UTF_8), run);
      } catch (InvalidProtocolBufferException e) {
        continue;
      }
      runs.add(run.build());
    }
    runs.sort(Comparator.comparing(RunSummary::getStarted));
    return runs;
  }

  static final class RenderFn extends DoFn<Plan, String> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final ModelManifest manifest;
    private final boolean quote;
    private final PCollectionView<Map<String, List<DeadLetter>>> deadLetters;
    private final PCollectionView<List<String>> previews;

    RenderFn(
        String outputRoot,
        ModelManifest manifest,
        boolean quote,
        PCollectionView<Map<String, List<DeadLetter>>> deadLetters,
        PCollectionView<List<String>> previews) {
      this.outputRoot = outputRoot;
      this.manifest = manifest;
      this.quote = quote;
      this.deadLetters = deadLetters;
      this.previews = previews;
    }

    @ProcessElement
    public void process(ProcessContext c) throws IOException {
      Plan plan = c.element();
      ObjectStore store = ObjectStores.forLocation(outputRoot);
      Map<String, byte[]> sheets = new TreeMap<>();
      for (String location : c.sideInput(previews)) {
        String name = location.substring(location.lastIndexOf('/') + 1);
        String tier = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        sheets.put(tier, store.readAllBytes(location));
      }
      String html =
          ReportPage.html(
              new ReportPage.Content(
                  quote,
                  plan.getSummary(),
                  plan.getCostModel(),
                  manifest,
                  c.sideInput(deadLetters),
                  sheets,
                  quote ? List.of() : history(store, outputRoot)));
      String location = OutputLayout.location(outputRoot, REPORT_HTML);
      store.write(
          location, html.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8", Map.of());
      c.output(location);
    }
  }
}
