using System.Globalization;
using System.Numerics;
using System.Text;

namespace Bamflow.Dataflow;

/// <summary>Number and string formatting shared by the statistics' text and JSON forms.</summary>
public static class StatisticsFormat
{
    /// <summary>
    /// samtools' percentage: <c>sprintf("%.2f", (float)n / total * 100.0)</c> — the quotient in single precision,
    /// scaled in double precision, printed with glibc's exact rounding (to nearest, ties to even).
    /// </summary>
    public static string Percentage(long count, long total)
    {
        float ratio = (float)count / (float)total;
        double percent = (double)ratio * 100.0;
        return FixedTwoDecimals(percent);
    }

    /// <summary>
    /// A finite, non-negative double with two decimals, rounded as glibc's printf rounds: from the exact binary
    /// value, to nearest, ties to even (.NET's "F2" may round such ties differently).
    /// </summary>
    public static string FixedTwoDecimals(double value)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "a finite, non-negative value is expected");
        }

        long bits = BitConverter.DoubleToInt64Bits(value);
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xF_FFFF_FFFF_FFFFL;
        if (exponent == 0)
        {
            exponent = 1; // subnormal
        }
        else
        {
            mantissa |= 1L << 52;
        }

        // value = mantissa · 2^shift exactly; hundredths = round(value · 100).
        int shift = exponent - 1075;
        BigInteger scaled = new BigInteger(mantissa) * 100;
        BigInteger hundredths;
        if (shift >= 0)
        {
            hundredths = scaled << shift;
        }
        else
        {
            BigInteger denominator = BigInteger.One << -shift;
            hundredths = BigInteger.DivRem(scaled, denominator, out BigInteger remainder);
            int half = (remainder * 2).CompareTo(denominator);
            if (half > 0 || (half == 0 && !hundredths.IsEven))
            {
                hundredths += 1;
            }
        }

        BigInteger whole = BigInteger.DivRem(hundredths, 100, out BigInteger fraction);
        return string.Create(CultureInfo.InvariantCulture, $"{whole}.{(int)fraction:D2}");
    }

    /// <summary>Appends <paramref name="value"/> as a JSON string literal: quotes, backslash and control characters escaped, the rest as is.</summary>
    public static StringBuilder AppendJsonString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"':
                    json.Append("\\\"");
                    break;
                case '\\':
                    json.Append("\\\\");
                    break;
                case < ' ':
                    json.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default:
                    json.Append(c);
                    break;
            }
        }

        return json.Append('"');
    }

    /// <summary>Appends a JSON object of counts keyed by number, one entry a line, closing at one space of indent: <c>{"0": 40, "60": 1983}</c>.</summary>
    public static void AppendJsonCounts(StringBuilder json, IReadOnlyList<(long Key, long Count)> entries)
    {
        if (entries.Count == 0)
        {
            json.Append("{}");
            return;
        }

        json.Append("{\n");
        for (int i = 0; i < entries.Count; i++)
        {
            json.Append(CultureInfo.InvariantCulture, $"  \"{entries[i].Key}\": {entries[i].Count}");
            json.Append(i + 1 < entries.Count ? ",\n" : "\n }");
        }
    }
}
