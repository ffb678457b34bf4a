package dev.odelt.transforms;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.SerializableComparator;

/**
 * Collects all elements into one list sorted by a comparator, so the result does not depend on the
 * order the runner delivered them in. With {@code Combine.globally} it yields an empty list for an
 * empty input. For outputs that are written as one object (dead letters, accounting); the list must
 * fit in one worker's memory.
 */
public final class CollectFn<T> extends Combine.CombineFn<T, List<T>, List<T>> {

  private static final long serialVersionUID = 1L;

  private final SerializableComparator<T> order;

  private CollectFn(SerializableComparator<T> order) {
    this.order = order;
  }

  public static <T> CollectFn<T> sortedBy(SerializableComparator<T> order) {
    return new CollectFn<>(order);
  }

  @Override
  public List<T> createAccumulator() {
    return new ArrayList<>();
  }

  @Override
  public List<T> addInput(List<T> acc, T input) {
    acc.add(input);
    return acc;
  }

  @Override
  public List<T> mergeAccumulators(Iterable<List<T>> accumulators) {
    List<T> out = new ArrayList<>();
    accumulators.forEach(out::addAll);
    return out;
  }

  @Override
  public List<T> extractOutput(List<T> acc) {
    List<T> out = new ArrayList<>(acc);
    out.sort((Comparator<T>) order);
    return out;
  }

  @Override
  public Coder<List<T>> getAccumulatorCoder(CoderRegistry registry, Coder<T> inputCoder)
      throws CannotProvideCoderException {
    return ListCoder.of(inputCoder);
  }

  @Override
  public Coder<List<T>> getDefaultOutputCoder(CoderRegistry registry, Coder<T> inputCoder)
      throws CannotProvideCoderException {
    return ListCoder.of(inputCoder);
  }
}
