package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.SourcedRequest;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.io.InputStream;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Reads manifests (one location per element) and parses them with a {@link ManifestParser}.
 *
 * <p>Outputs: {@link #REQUESTS} — checked requests with derived ids and seeds filled in, each with
 * its source, line and original text; {@link #DEAD_LETTERS} — every bad line (malformed JSON or
 * CSV, fields given twice, wrong types, unknown fields, no or two subjects, two tier choices, bad
 * {@code num_images}, unsafe ids or tags, lines, prompts or tags over their limits, non-UTF-8
 * bytes), empty files, files that are not text (one dead letter each) and files of unknown format.
 * A manifest that cannot be read (storage failure) fails the bundle so the runner retries it.
 */
public final class ParseRequests extends PTransform<PCollection<String>, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<SourcedRequest> REQUESTS = new TupleTag<SourcedRequest>() {};
  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<DeadLetter>() {};

  private final ManifestParser parser;

  private ParseRequests(ManifestParser parser) {
    this.parser = parser;
  }

  /** Parses with the given parser settings (prompt-list count and tier). */
  public static ParseRequests with(ManifestParser parser) {
    if (parser == null) {
      throw new IllegalArgumentException("parser must not be null");
    }
    return new ParseRequests(parser);
  }

  @Override
  public PCollectionTuple expand(PCollection<String> manifests) {
    return manifests.apply(
        "ParseManifest",
        ParDo.of(new ParseManifestFn(parser))
            .withOutputTags(REQUESTS, TupleTagList.of(DEAD_LETTERS)));
  }

  static final class ParseManifestFn extends DoFn<String, SourcedRequest> {
    private static final long serialVersionUID = 1L;
    private final ManifestParser parser;

    ParseManifestFn(ManifestParser parser) {
      this.parser = parser;
    }

    @ProcessElement
    public void process(@Element String location, MultiOutputReceiver out) throws IOException {
      try (InputStream in = ObjectStores.forLocation(location).open(location)) {
        parser.parse(
            location,
            in,
            new ManifestParser.Sink() {
              @Override
              public void accept(SourcedRequest request) {
                out.get(REQUESTS).output(request);
              }

              @Override
              public void reject(DeadLetter deadLetter) {
                out.get(DEAD_LETTERS).output(deadLetter);
              }
            });
      }
    }
  }
}
