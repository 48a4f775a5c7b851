using System.Globalization;
using System.Runtime.CompilerServices;
using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

/// <summary>The cell's layout (what makes plain output cheap) and its interned combining marks.</summary>
public sealed class VtCellTests
{
    [Fact]
    public void Cell_HoldsNoReferences_SoStoresNeedNoWriteBarrier()
    {
        // The point of VtCell's layout: no GC write barrier per cell store, and fills can vectorize.
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<VtCell>());
    }

    [Fact]
    public void Cell_IsSixteenBytes_SoFillsVectorize()
    {
        // Span.Fill vectorizes only power-of-two element sizes.
        Assert.Equal(16, Unsafe.SizeOf<VtCell>());
    }

    [Fact]
    public void Cell_KeepsStyleAndCodePoint()
    {
        var style = new VtStyle(VtColor.FromRgb(1, 2, 3), VtColor.FromIndex(200), VtAttributes.Bold | VtAttributes.Overline);
        var cell = new VtCell('a', style);

        Assert.Equal('a', cell.CodePoint);
        Assert.Equal(style, cell.Style);
        Assert.Null(cell.Combining);
        Assert.Equal(default(VtCell), new VtCell(VtCell.BlankCodePoint, VtStyle.Default));
    }

    [Fact]
    public void Combining_SameMarksOnDifferentScreens_AreEqualCells()
    {
        VtCell first = Screen(10, 1, "e\u0301\u0302").GetCell(0, 0);
        VtCell second = Screen(10, 1, "e\u0301\u0302").GetCell(0, 0);

        Assert.Equal("\u0301\u0302", first.Combining);
        Assert.Equal(first, second);
        Assert.True(first == second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
    }

    [Fact]
    public void Combining_DifferentMarks_AreDifferentCells()
    {
        VtCell acute = Screen(10, 1, "e\u0301").GetCell(0, 0);
        VtCell grave = Screen(10, 1, "e\u0300").GetCell(0, 0);
        VtCell plain = Screen(10, 1, "e").GetCell(0, 0);

        Assert.NotEqual(acute, grave);
        Assert.NotEqual(acute, plain);
        Assert.True(acute != plain);
        Assert.Equal("e\u0300", grave.Text);
    }

    [Fact]
    public void Combining_SurvivesScrollingIntoScrollback()
    {
        var screen = Screen(10, 2, "a\u0308\r\nb\r\nc\u20dd");

        Assert.Equal("a\u0308", screen.Scrollback[0]);
        Assert.Equal("c\u20dd", screen.GetLine(1));
    }

    [Fact]
    public void Table_SameString_GetsSameId()
    {
        var table = new VtCombiningTable();

        Assert.True(table.TryIntern("\u0301", out ushort first));
        Assert.True(table.TryIntern(new string('\u0301', 1), out ushort again));
        Assert.True(table.TryIntern("\u0300", out ushort other));

        Assert.NotEqual(VtCombiningTable.None, first);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal("\u0301", table.Get(first));
        Assert.Equal("\u0300", table.Get(other));
        Assert.Null(table.Get(VtCombiningTable.None));
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void Table_BeyondCapacity_RefusesNewStringsAndKeepsOldOnes()
    {
        // A private table: filling the shared one would drop marks in every other test.
        var table = new VtCombiningTable();
        var ids = new HashSet<ushort>();
        for (int i = 0; i < VtCombiningTable.Capacity; i++)
        {
            Assert.True(table.TryIntern(i.ToString(CultureInfo.InvariantCulture), out ushort id));
            Assert.True(ids.Add(id));
        }

        Assert.False(table.TryIntern("new", out ushort refused));
        Assert.Equal(VtCombiningTable.None, refused);
        Assert.Equal(VtCombiningTable.Capacity, table.Count);

        // Known strings still resolve both ways.
        Assert.True(table.TryIntern("0", out ushort zero));
        Assert.Equal("0", table.Get(zero));
        Assert.True(table.TryIntern("65534", out ushort last));
        Assert.Equal(ushort.MaxValue, last);
        Assert.Equal("65534", table.Get(last));
    }

    [Fact]
    public void Table_ConcurrentInterning_GivesEveryStringOneId()
    {
        var table = new VtCombiningTable();
        const int Strings = 2000;
        var results = new ushort[4][];
        Parallel.For(0, results.Length, worker =>
        {
            var ids = new ushort[Strings];
            for (int i = 0; i < Strings; i++)
            {
                // Each worker walks the strings in a different order.
                int index = worker % 2 == 0 ? i : Strings - 1 - i;
                Assert.True(table.TryIntern(index.ToString(CultureInfo.InvariantCulture), out ids[index]));
                Assert.Equal(index.ToString(CultureInfo.InvariantCulture), table.Get(ids[index]));
            }

            results[worker] = ids;
        });

        Assert.Equal(Strings, table.Count);
        Assert.All(results, ids => Assert.Equal(results[0], ids));
        Assert.Equal(Strings, results[0].Distinct().Count());
    }
}
