using System.Collections.Concurrent;

namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// Interns the combining-mark strings of cells (<see cref="VtCell.Combining"/>), so that a cell
/// stores a 16-bit id instead of a string reference.
/// </summary>
/// <remarks>
/// Problem: a string field in <see cref="VtCell"/> made every cell store go through the GC write
/// barrier and kept <see cref="Array.Fill{T}(T[], T)"/> from vectorizing, which led the profile of
/// plain output floods. Solution: cells hold an id into this process-wide table. Reading (id to
/// string) is lock-free: it indexes the current array snapshot, which adds only ever replace with
/// a larger copy. Finding the id of a known string is lock-free too; adding a new one takes a lock.
/// <para>
/// Ids live in cells anywhere (screens, scrollbacks, callers' copies), so strings are never removed
/// and the table is bounded instead: after <see cref="Capacity"/> distinct strings (at most
/// <c>VtScreen.MaxCombiningLength</c> chars each, so about 10 MB at worst) new strings are not
/// stored and <see cref="TryIntern"/> fails. The cell then keeps the marks it already had and the
/// new mark is dropped, the same as a mark beyond the per-cell length limit. Stored strings keep
/// resolving.
/// </para>
/// </remarks>
internal sealed class VtCombiningTable
{
    /// <summary>The id meaning "no combining marks" (the one <c>default(VtCell)</c> has).</summary>
    public const ushort None = 0;

    /// <summary>How many distinct strings a table holds: one per non-zero 16-bit id.</summary>
    public const int Capacity = ushort.MaxValue;

    private const int InitialSize = 64;

    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, ushort> _ids = new(StringComparer.Ordinal);

    // Index = id; slot 0 (None) stays null. Replaced (never mutated below _count) when it grows.
    private string?[] _strings = new string?[InitialSize];
    private int _count;

    /// <summary>The table the cells of every screen use.</summary>
    public static VtCombiningTable Shared { get; } = new();

    /// <summary>Number of distinct strings stored.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The string with id <paramref name="id"/>, or null for <see cref="None"/> (or an id this table never gave).</summary>
    public string? Get(ushort id)
    {
        string?[] strings = Volatile.Read(ref _strings);
        return id < strings.Length ? strings[id] : null;
    }

    /// <summary>
    /// The id of <paramref name="text"/> (ordinal: equal strings get equal ids), adding it when new.
    /// False, with <see cref="None"/>, when it is new and the table already holds <see cref="Capacity"/> strings.
    /// </summary>
    public bool TryIntern(string text, out ushort id)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_ids.TryGetValue(text, out id))
        {
            return true;
        }

        lock (_gate)
        {
            if (_ids.TryGetValue(text, out id))
            {
                return true;
            }

            if (_count >= Capacity)
            {
                id = None;
                return false;
            }

            int next = _count + 1;
            string?[] strings = _strings;
            if (next < strings.Length)
            {
                Volatile.Write(ref strings[next], text);
            }
            else
            {
                var grown = new string?[Math.Min(strings.Length * 2, Capacity + 1)];
                Array.Copy(strings, grown, strings.Length);
                grown[next] = text;
                Volatile.Write(ref _strings, grown);
            }

            // Published after the string is in place, so whoever finds the id can read the string.
            id = (ushort)next;
            _ids[text] = id;
            Volatile.Write(ref _count, next);
            return true;
        }
    }
}
