/**
 * Dataset output formats ({@code --format=webdataset|parquet|tfrecord}): one small writer per
 * format behind {@link dev.odelt.transforms.datasets.ShardWriter}, the shard layout and sample keys
 * ({@link dev.odelt.transforms.datasets.ShardLayout}), and {@link
 * dev.odelt.transforms.datasets.WriteDataset}, which generates each shard's images in order and
 * streams them into the shard.
 */
package dev.odelt.transforms.datasets;
