using System.Collections;

namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// Bounded history of lines that scrolled off the top of the main screen, oldest first.
/// A ring of <see cref="VtLine"/> objects: when full, the evicted line is handed back to the
/// screen to be reused as the new blank bottom line, so steady-state scrolling allocates nothing.
/// The ring grows on demand, so a screen that never scrolls does not pay for its capacity.
/// </summary>
internal sealed class VtScrollback : IReadOnlyList<string>
{
    private const int InitialRingSize = 64;

    private VtLine?[] _ring = [];
    private int _start;

    public VtScrollback(int capacity) => Capacity = Math.Max(0, capacity);

    /// <summary>Maximum number of lines kept.</summary>
    public int Capacity { get; }

    /// <inheritdoc />
    public int Count { get; private set; }

    /// <inheritdoc />
    public string this[int index] => GetLine(index).GetFrozenText();

    /// <summary>The stored line at <paramref name="index"/> (0 = oldest).</summary>
    public VtLine GetLine(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _ring[(_start + index) % _ring.Length]!;
    }

    /// <summary>
    /// Appends <paramref name="line"/>. Returns a line object the caller may reuse (the evicted
    /// oldest line, or <paramref name="line"/> itself when there is no capacity), or null.
    /// </summary>
    public VtLine? Push(VtLine line)
    {
        if (Capacity == 0)
        {
            return line;
        }

        if (Count == _ring.Length && _ring.Length < Capacity)
        {
            Grow();
        }

        if (Count < _ring.Length)
        {
            _ring[(_start + Count) % _ring.Length] = line;
            Count++;
            return null;
        }

        VtLine evicted = _ring[_start]!;
        _ring[_start] = line;
        _start = (_start + 1) % _ring.Length;
        return evicted;
    }

    /// <summary>Forgets all lines (ED 3, RIS).</summary>
    public void Clear()
    {
        _ring = [];
        _start = 0;
        Count = 0;
    }

    /// <inheritdoc />
    public IEnumerator<string> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Doubles the ring (up to <see cref="Capacity"/>), unrolling it so the oldest line is at index 0.</summary>
    private void Grow()
    {
        int size = (int)Math.Min(Capacity, Math.Max(InitialRingSize, (long)_ring.Length * 2));
        var ring = new VtLine?[size];
        for (int i = 0; i < Count; i++)
        {
            ring[i] = _ring[(_start + i) % _ring.Length];
        }

        _ring = ring;
        _start = 0;
    }
}
