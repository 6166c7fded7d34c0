using System.Globalization;

namespace Bamflow.Bam;

/// <summary>
/// Formats floats exactly as samtools prints <c>f</c> aux values: htslib's <c>kputd</c>, a fast "%g" that rounds
/// to six significant digits via <c>rint(d * 10^k)</c> for 0.0001 ≤ |d| ≤ 999999 and defers to C's "%g"
/// elsewhere. Its rounding differs from "%g" in rare cases, so it is reproduced step by step.
/// </summary>
public static class SamFloatFormatter
{
    private const int BufferEnd = 20; // kputd's char buf[21], cp = buf + 20

    /// <summary>Appends <paramref name="value"/> as htslib's kputd would.</summary>
    public static void Append(double value, TextBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (value == 0)
        {
            output.Append(double.IsNegative(value) ? "-0"u8 : "0"u8);
            return;
        }

        if (value < 0)
        {
            output.Append((byte)'-');
            value = -value;
        }

        if (!(value >= 0.0001 && value <= 999999))
        {
            AppendPercentG(value, output);
            return;
        }

        // Scale to a 6-digit integer (7 when rounding carries), and note how far the digits end before buf+20.
        (double scale, int shift) = value switch
        {
            < 0.001 => (1e9, 1),
            < 0.01 => (1e8, 2),
            < 0.1 => (1e7, 3),
            < 1 => (1e6, 4),
            < 10 => (1e5, 5),
            < 100 => (1e4, 6),
            < 1000 => (1e3, 7),
            < 10000 => (1e2, 8),
            < 100000 => (1e1, 9),
            _ => (1.0, 10),
        };
        uint digits = (uint)Math.Round(value * scale, MidpointRounding.ToEven); // C rint() in the default rounding mode

        Span<byte> buf = stackalloc byte[BufferEnd + 1];
        buf.Clear();
        int cp = BufferEnd - shift;
        for (int pair = 0; pair < 3; pair++)
        {
            uint two = digits % 100;
            buf[--cp] = (byte)('0' + (two % 10));
            buf[--cp] = (byte)('0' + (two / 10));
            if (pair < 2)
            {
                digits /= 100;
            }
        }

        if (digits >= 100)
        {
            buf[--cp] = (byte)('0' + (digits / 100));
        }

        int p = BufferEnd - cp;
        int ep;
        if (p <= 10)
        {
            // value < 1: 0.00123 is 123000 → prepend zeros, '.', '0'.
            ep = cp + 5;
            while (p < 10)
            {
                buf[--cp] = (byte)'0';
                p++;
            }

            buf[--cp] = (byte)'.';
            buf[--cp] = (byte)'0';
        }
        else
        {
            // 123.001 is 123001 → move the integer digits down one and insert '.'.
            int xp = --cp;
            ep = cp + 6;
            while (p > 10)
            {
                buf[xp] = buf[xp + 1];
                xp++;
                p--;
            }

            buf[xp] = (byte)'.';
        }

        while (buf[ep] == '0' && ep > cp)
        {
            ep--;
        }

        if (buf[ep] != 0 && buf[ep] != '.')
        {
            ep++;
        }

        output.Append(buf[cp..ep]);
    }

    /// <summary>C's printf("%g") for a positive value (or NaN / infinity).</summary>
    private static void AppendPercentG(double value, TextBuffer output)
    {
        if (double.IsNaN(value))
        {
            output.Append(double.IsNegative(value) ? "-nan"u8 : "nan"u8);
            return;
        }

        if (double.IsInfinity(value))
        {
            output.Append("inf"u8);
            return;
        }

        const int precision = 6;
        string scientific = value.ToString("E" + (precision - 1), CultureInfo.InvariantCulture); // d.dddddE+xxx, correctly rounded
        int exponentAt = scientific.IndexOf('E', StringComparison.Ordinal);
        int exponent = int.Parse(scientific.AsSpan(exponentAt + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string text;
        if (exponent < -4 || exponent >= precision)
        {
            string mantissa = TrimFraction(scientific[..exponentAt]);
            text = mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        }
        else
        {
            text = TrimFraction(value.ToString("F" + (precision - 1 - exponent), CultureInfo.InvariantCulture));
        }

        foreach (char c in text)
        {
            output.Append((byte)c);
        }
    }

    private static string TrimFraction(string number) =>
        number.Contains('.', StringComparison.Ordinal) ? number.TrimEnd('0').TrimEnd('.') : number;
}
