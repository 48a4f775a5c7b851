using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentSidecar.Terminal.Vt;

namespace AgentSidecar.Terminal.Tests.Vt;

/// <summary>Reports feeding speed in the test output. Measures only; no timing assertion (machines differ).</summary>
public sealed class VtThroughputTests
{
    private const int PayloadBytes = 4 * 1024 * 1024;
    private const int ChunkBytes = 4096;
    private const int Repetitions = 5;

    [Fact]
    public void Feed_PlainText_ReportsThroughput()
    {
        var random = new Random(1);
        var text = new StringBuilder();
        while (text.Length < PayloadBytes)
        {
            int length = random.Next(0, 100);
            for (int i = 0; i < length; i++)
            {
                text.Append((char)random.Next(0x20, 0x7F));
            }

            text.Append("\r\n");
        }

        byte[] data = Encoding.ASCII.GetBytes(text.ToString());
        var screen = new VtScreen(120, 40);
        FeedAll(screen, data);

        var stopwatch = Stopwatch.StartNew();
        for (int i = 0; i < Repetitions; i++)
        {
            FeedAll(screen, data);
        }

        stopwatch.Stop();
        double megabytesPerSecond = data.Length * (double)Repetitions / stopwatch.Elapsed.TotalSeconds / 1_000_000;
        TestContext.Current.TestOutputHelper?.WriteLine(
            string.Create(CultureInfo.InvariantCulture, $"plain text: {megabytesPerSecond:F0} MB/s"));
        Assert.NotEmpty(screen.GetLines());
    }

    [Fact]
    public void Feed_RepeatBomb_ReportsThroughput()
    {
        // The repeat bomb of issue 16 (a ESC[65535b in a loop): its cost per byte against plain text's.
        byte[] bomb = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a\u001b[65535b", ChunkBytes / 9)));
        var screen = new VtScreen(120, 40);
        FeedAll(screen, bomb);

        int rounds = 0;
        var stopwatch = Stopwatch.StartNew();
        while (rounds < Repetitions * 8)
        {
            FeedAll(screen, bomb);
            rounds++;
        }

        stopwatch.Stop();
        double sequencesPerSecond = bomb.Length / 9.0 * rounds / stopwatch.Elapsed.TotalSeconds;
        TestContext.Current.TestOutputHelper?.WriteLine(
            string.Create(CultureInfo.InvariantCulture, $"repeat bomb: {sequencesPerSecond:F0} sequences/s ({bomb.Length * (double)rounds / stopwatch.Elapsed.TotalSeconds / 1_000_000:F1} MB/s)"));
        Assert.Equal(new string('a', 120), screen.GetLine(0));
    }

    private static void FeedAll(VtScreen screen, byte[] data)
    {
        for (int offset = 0; offset < data.Length; offset += ChunkBytes)
        {
            screen.Feed(data.AsSpan(offset, Math.Min(ChunkBytes, data.Length - offset)));
        }
    }
}
