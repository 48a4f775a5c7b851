namespace AgentSidecar.Terminal.Vt;

/// <summary>C0 control bytes the emulator acts on.</summary>
internal static class ControlChars
{
    public const byte Nul = 0x00;
    public const byte Bel = 0x07;
    public const byte Bs = 0x08;
    public const byte Ht = 0x09;
    public const byte Lf = 0x0A;
    public const byte Vt = 0x0B;
    public const byte Ff = 0x0C;
    public const byte Cr = 0x0D;
    public const byte So = 0x0E;
    public const byte Si = 0x0F;
    public const byte Can = 0x18;
    public const byte Sub = 0x1A;
    public const byte Esc = 0x1B;
    public const byte Del = 0x7F;
}
