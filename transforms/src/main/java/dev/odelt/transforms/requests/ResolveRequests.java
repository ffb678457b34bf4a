package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.SourcedRequest;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Resolves requests against a model with a {@link RequestResolver}: {@link #RESOLVED} gets requests
 * with a class id and a tier; {@link #DEAD_LETTERS} gets unresolvable prompts (with suggestions),
 * unknown class labels, class ids out of range, unknown tier names, blocks the model does not
 * allow, steps, guidance or tolerance out of range, and budgets no tier fits.
 */
public final class ResolveRequests
    extends PTransform<PCollection<SourcedRequest>, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<ResolvedRequest> RESOLVED = new TupleTag<ResolvedRequest>() {};
  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<DeadLetter>() {};

  private final ModelManifest manifest;

  private ResolveRequests(ModelManifest manifest) {
    this.manifest = manifest;
  }

  /** Resolves against this model; fails now if the manifest is inconsistent. */
  public static ResolveRequests against(ModelManifest manifest) {
    RequestResolver.of(manifest);
    return new ResolveRequests(manifest);
  }

  @Override
  public PCollectionTuple expand(PCollection<SourcedRequest> requests) {
    return requests.apply(
        "Resolve",
        ParDo.of(new ResolveFn(manifest)).withOutputTags(RESOLVED, TupleTagList.of(DEAD_LETTERS)));
  }

  static final class ResolveFn extends DoFn<SourcedRequest, ResolvedRequest> {
    private static final long serialVersionUID = 1L;
    private final ModelManifest manifest;
    private transient RequestResolver resolver;

    ResolveFn(ModelManifest manifest) {
      this.manifest = manifest;
    }

    @Setup
    public void setup() {
      resolver = RequestResolver.of(manifest);
    }

    @ProcessElement
    public void process(@Element SourcedRequest request, MultiOutputReceiver out) {
      try {
        out.get(RESOLVED).output(resolver.resolve(request));
      } catch (RejectedRequestException e) {
        out.get(DEAD_LETTERS)
            .output(
                ManifestParser.dead(request.getSource(), request.getLine(), request.getText(), e)
                    .toBuilder()
                    .setStage("resolve")
                    .setRequestId(request.getRequest().getRequestId())
                    .build());
      }
    }
  }
}
