package dev.odelt.transforms.datasets;

import java.util.List;
import java.util.Locale;

/**
 * The dataset card {@code dataset/README.md}: YAML front matter that lets Hugging Face {@code
 * datasets.load_dataset(<dataset folder>, <tier>)} and a Hub upload find each tier's files as a
 * config (Parquet and WebDataset; TFRecord has no {@code datasets} builder), then what made the
 * dataset: model, precision, tiers, manifests, layout.
 */
final class DatasetCard {

  private DatasetCard() {}

  static String markdown(
      DatasetFormat format, WriteDataset.Card card, List<String> tiers, int shardImages) {
    StringBuilder md = new StringBuilder();
    boolean configs = format == DatasetFormat.PARQUET || format == DatasetFormat.WEBDATASET;
    md.append("---\n");
    md.append("pretty_name: ")
        .append(yaml("Images of " + card.modelName() + " " + card.modelVersion()))
        .append('\n');
    md.append("tags:\n- synthetic\n- odelt\n");
    if (configs) {
      md.append("configs:\n");
      for (String tier : tiers) {
        md.append("- config_name: ").append(yaml(tier)).append('\n');
        md.append("  data_files:\n");
        md.append("  - split: train\n");
        md.append("    path: ")
            .append(yaml(tier + "/*." + format.extension()))
            .append('\n');
      }
    }
    md.append("---\n\n");
    md.append("# ").append(card.modelName()).append(' ').append(card.modelVersion()).append("\n\n");
    md.append("Synthetic images written by odelt-beam as ")
        .append(format.label())
        .append(" shards of about ")
        .append(String.format(Locale.ROOT, "%,d", shardImages))
        .append(" images, one folder (one config, split `train`) per tier.\n\n");
    md.append("| | |\n|---|---|\n");
    md.append("| model | `").append(card.modelName()).append(' ').append(card.modelVersion());
    md.append("` from `").append(card.modelLocation()).append("` |\n");
    md.append("| precision | ").append(card.precision()).append(" |\n");
    md.append("| requests | `").append(card.requests()).append("` |\n");
    md.append("| tiers | ");
    md.append(String.join(", ", tiers.stream().map(t -> "`" + t + "`").toList())).append(" |\n\n");
    md.append(
        "Each tier folder holds `NNNNN."
            + format.extension()
            + "` shards, `index.json` (every shard with its samples, bytes and sha256, the"
            + " features and class names) and one `NNNNN."
            + format.extension()
            + ".json` per shard (its records). A tier label `s<S>-b<L>` names the time steps S"
            + " and transformer blocks L each image was sampled with. The job's per-image records"
            + " are in `../records/`, its cost accounting in `../accounting/`.\n");
    return md.toString();
  }

  /** A YAML double-quoted scalar. */
  private static String yaml(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
