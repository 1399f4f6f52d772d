"""Alternating timed runs, so that machine noise hits every variant alike."""
import statistics


def alternate(variants, repeats):
    """Run each variant once per round, for ``repeats`` rounds.

    Args:
        variants: ``{name: fn(round) -> rate}``, in the order to run them.
        repeats (int): rounds.

    Returns:
        ``{name: median rate}``. Each run's rate is printed as it finishes.
    """
    rates = {name: [] for name in variants}
    width = max(len(name) for name in variants)
    for i in range(repeats):
        for name, run in variants.items():
            rates[name].append(run(i))
            print('{:{}s} run {}: {:7.1f} steps/s'.format(
                name, width, i, rates[name][-1]), flush=True)
    return {name: statistics.median(r) for name, r in rates.items()}
