namespace AgentSidecar.Terminal.Vt;

/// <summary>UTF-8 decoding of the ground state, resumable across <see cref="Feed(ReadOnlySpan{byte})"/> calls.</summary>
public sealed partial class VtScreen
{
    private const byte Utf8ContinuationTag = 0x80;
    private const byte Utf8ContinuationMax = 0xBF;
    private const byte Utf8ContinuationPayload = 0x3F;
    private const int Utf8ContinuationShift = 6;

    private int _utf8Remaining;
    private int _utf8CodePoint;
    private byte _utf8NextLow;
    private byte _utf8NextHigh;

    /// <summary>
    /// Feeds a byte to a started sequence. Returns true when the byte was consumed; false when it
    /// does not continue the sequence, which is then dropped and the byte must be handled afresh.
    /// </summary>
    private bool ContinueUtf8(byte value)
    {
        if (value < _utf8NextLow || value > _utf8NextHigh)
        {
            _utf8Remaining = 0;
            return false;
        }

        _utf8CodePoint = (_utf8CodePoint << Utf8ContinuationShift) | (value & Utf8ContinuationPayload);
        _utf8NextLow = Utf8ContinuationTag;
        _utf8NextHigh = Utf8ContinuationMax;
        if (--_utf8Remaining == 0)
        {
            Print(_utf8CodePoint);
        }

        return true;
    }

    /// <summary>
    /// Starts a multi-byte UTF-8 sequence. The allowed range of the second byte is narrowed so that
    /// overlong forms, surrogates and values above U+10FFFF are rejected at the first bad byte, which
    /// splits input into the same "maximal invalid subparts" Unicode describes. Invalid parts are
    /// dropped rather than shown as U+FFFD, as xterm.js (the product's client) and tmux do, so that
    /// columns stay in step with what the live terminal shows.
    /// </summary>
    private void StartUtf8(byte lead)
    {
        const byte TwoByteLeadFirst = 0xC2;
        const byte ThreeByteLeadFirst = 0xE0;
        const byte SurrogateLead = 0xED;
        const byte FourByteLeadFirst = 0xF0;
        const byte FourByteLeadLast = 0xF4;
        const byte ThreeByteNoOverlongMin = 0xA0;
        const byte BelowSurrogatesMax = 0x9F;
        const byte FourByteNoOverlongMin = 0x90;
        const byte MaxPlaneSecondMax = 0x8F;
        const int TwoBytePayloadMask = 0x1F;
        const int ThreeBytePayloadMask = 0x0F;
        const int FourBytePayloadMask = 0x07;

        if (lead < TwoByteLeadFirst || lead > FourByteLeadLast)
        {
            // Stray continuation byte, overlong lead (C0/C1) or out-of-range lead: dropped.
            return;
        }

        if (lead < ThreeByteLeadFirst)
        {
            BeginUtf8(lead & TwoBytePayloadMask, 1, Utf8ContinuationTag, Utf8ContinuationMax);
        }
        else if (lead < FourByteLeadFirst)
        {
            byte low = lead == ThreeByteLeadFirst ? ThreeByteNoOverlongMin : Utf8ContinuationTag;
            byte high = lead == SurrogateLead ? BelowSurrogatesMax : Utf8ContinuationMax;
            BeginUtf8(lead & ThreeBytePayloadMask, 2, low, high);
        }
        else
        {
            byte low = lead == FourByteLeadFirst ? FourByteNoOverlongMin : Utf8ContinuationTag;
            byte high = lead == FourByteLeadLast ? MaxPlaneSecondMax : Utf8ContinuationMax;
            BeginUtf8(lead & FourBytePayloadMask, 3, low, high);
        }
    }

    private void BeginUtf8(int payload, int continuationBytes, byte nextLow, byte nextHigh)
    {
        _utf8CodePoint = payload;
        _utf8Remaining = continuationBytes;
        _utf8NextLow = nextLow;
        _utf8NextHigh = nextHigh;
    }
}
