namespace Bamflow.Bam.Index;

public sealed partial class BamIndexBuilder
{
    /// <summary>A bin's chunks (pairs of virtual positions, begin and end) and its linear offset (CSI's loffset).</summary>
    private sealed class Bin
    {
        public ulong[] Chunks = new ulong[2];   // u0, v0, u1, v1, …
        public int Count;
        public ulong LinearOffset;

        public ulong Begin(int i) => Chunks[2 * i];

        public ulong End(int i) => Chunks[(2 * i) + 1];

        public void Add(ulong begin, ulong end)
        {
            if (2 * (Count + 1) > Chunks.Length)
            {
                Array.Resize(ref Chunks, Chunks.Length * 2);
            }

            Chunks[2 * Count] = begin;
            Chunks[(2 * Count) + 1] = end;
            Count++;
        }

        /// <summary>Sorts the chunks by their begin (htslib's ks_introsort(_off)); begins are distinct.</summary>
        public void Sort()
        {
            if (Count < 2)
            {
                return;
            }

            var begins = new ulong[Count];
            var ends = new ulong[Count];
            for (int i = 0; i < Count; i++)
            {
                begins[i] = Begin(i);
                ends[i] = End(i);
            }

            Array.Sort(begins, ends);
            for (int i = 0; i < Count; i++)
            {
                Chunks[2 * i] = begins[i];
                Chunks[(2 * i) + 1] = ends[i];
            }
        }
    }

    /// <summary>
    /// A reference's bins, kept as htslib's khash (<c>KHASH_MAP_INIT_INT(bin, bins_t)</c>) keeps them: the order an index
    /// lists its bins in is that table's bucket order, so to write the same bytes as samtools the table is the same one
    /// (identity hash, power-of-two buckets, quadratic probing, in-place rehash on growth at 0.77 load, deletion marks).
    /// </summary>
    private sealed class BinTable
    {
        private const double HashUpper = 0.77;   // __ac_HASH_UPPER
        private const byte Empty = 2, Deleted = 1, Live = 0;
        private uint _buckets;
        private uint _size;
        private uint _occupied;
        private uint _upperBound;
        private byte[] _flags = [];
        private uint[] _keys = [];
        private Bin?[] _values = [];

        /// <summary>Live entries (kh_size).</summary>
        public int Count => (int)_size;

        /// <summary>Number of buckets (kh_end).</summary>
        public int Buckets => (int)_buckets;

        public bool IsLive(int slot) => _flags[slot] == Live;

        public int KeyAt(int slot) => (int)_keys[slot];

        public Bin ValueAt(int slot) => _values[slot]!;

        /// <summary>The bin <paramref name="key"/>, created if absent (kh_put).</summary>
        public Bin GetOrAdd(int key)
        {
            uint k = (uint)key;
            if (_occupied >= _upperBound)
            {
                Resize(_buckets > (_size << 1) ? _buckets - 1 : _buckets + 1);
            }

            uint mask = _buckets - 1, step = 0;
            uint x = _buckets, site = _buckets, i = k & mask;
            if (_flags[i] == Empty)
            {
                x = i;
            }
            else
            {
                uint last = i;
                while (_flags[i] != Empty && (_flags[i] == Deleted || _keys[i] != k))
                {
                    if (_flags[i] == Deleted)
                    {
                        site = i;
                    }

                    i = (i + ++step) & mask;
                    if (i == last)
                    {
                        x = site;
                        break;
                    }
                }

                if (x == _buckets)
                {
                    x = _flags[i] == Empty && site != _buckets ? site : i;
                }
            }

            if (_flags[x] == Empty)
            {
                _occupied++;
            }
            else if (_flags[x] == Live)
            {
                return _values[x]!;
            }

            _keys[x] = k;
            _flags[x] = Live;
            _size++;
            return _values[x] = new Bin();
        }

        /// <summary>The slot of <paramref name="key"/>, or −1 (kh_get).</summary>
        public int Find(int key)
        {
            if (_buckets == 0)
            {
                return -1;
            }

            uint k = (uint)key, mask = _buckets - 1, step = 0, i = k & mask, last = i;
            while (_flags[i] != Empty && (_flags[i] == Deleted || _keys[i] != k))
            {
                i = (i + ++step) & mask;
                if (i == last)
                {
                    return -1;
                }
            }

            return _flags[i] == Live ? (int)i : -1;
        }

        /// <summary>Marks the slot deleted (kh_del).</summary>
        public void Delete(int slot)
        {
            if (_flags[slot] == Live)
            {
                _flags[slot] = Deleted;
                _values[slot] = null;
                _size--;
            }
        }

        /// <summary>kh_resize: rounds up to a power of two (at least 4) and rehashes in place, kicking entries out as htslib does.</summary>
        private void Resize(uint newBuckets)
        {
            newBuckets = RoundUpPowerOfTwo(newBuckets);
            if (newBuckets < 4)
            {
                newBuckets = 4;
            }

            if (_size >= (uint)((newBuckets * HashUpper) + 0.5))
            {
                return; // requested size is too small
            }

            var newFlags = new byte[newBuckets];
            newFlags.AsSpan().Fill(Empty);
            if (_buckets < newBuckets)
            {
                Array.Resize(ref _keys, (int)newBuckets);
                Array.Resize(ref _values, (int)newBuckets);
            }

            uint newMask = newBuckets - 1;
            for (uint j = 0; j != _buckets; j++)
            {
                if (_flags[j] != Live)
                {
                    continue;
                }

                uint key = _keys[j];
                Bin? value = _values[j];
                _flags[j] = Deleted;
                while (true)
                {
                    uint step = 0, i = key & newMask;
                    while (newFlags[i] != Empty)
                    {
                        i = (i + ++step) & newMask;
                    }

                    newFlags[i] = Live;
                    if (i < _buckets && _flags[i] == Live)
                    {
                        (_keys[i], key) = (key, _keys[i]);
                        (_values[i], value) = (value, _values[i]);
                        _flags[i] = Deleted;
                    }
                    else
                    {
                        _keys[i] = key;
                        _values[i] = value;
                        break;
                    }
                }
            }

            if (_buckets > newBuckets)
            {
                Array.Resize(ref _keys, (int)newBuckets);
                Array.Resize(ref _values, (int)newBuckets);
            }

            _flags = newFlags;
            _buckets = newBuckets;
            _occupied = _size;
            _upperBound = (uint)((_buckets * HashUpper) + 0.5);
        }

        private static uint RoundUpPowerOfTwo(uint x)
        {
            // kroundup32
            --x;
            x |= x >> 1;
            x |= x >> 2;
            x |= x >> 4;
            x |= x >> 8;
            x |= x >> 16;
            return ++x;
        }
    }
}
