using System.Buffers;
using System.Buffers.Binary;
using Orleans.Patterns.Raft.Transport;

namespace Orleans.Patterns.Tests.Raft.Transport;

[Trait("Category", "Unit")]
public sealed class RaftFramesTests
{
    [Fact]
    public void Hello_round_trips_both_names()
    {
        Assert.Equal(("silo-1", "silo-2"), RaftFrames.DecodeHello(RaftFrames.EncodeHello("silo-1", "silo-2")));
    }

    [Fact]
    public void A_first_frame_that_is_not_a_hello_is_refused_saying_so()
    {
        var error = Assert.Throws<InvalidDataException>(() => RaftFrames.DecodeHello([1, 2, 3, 4, 5, 6]));
        Assert.Contains("not a hello", error.Message);
    }

    [Fact]
    public void A_hello_of_another_version_is_refused_naming_both_versions()
    {
        var hello = RaftFrames.EncodeHello("a", "b");
        hello[4] = 9;

        var error = Assert.Throws<InvalidDataException>(() => RaftFrames.DecodeHello(hello));
        Assert.Contains("version 9", error.Message);
        Assert.Contains("version 1", error.Message);
    }

    [Fact]
    public void A_hello_cut_short_is_refused()
    {
        var hello = RaftFrames.EncodeHello("silo-1", "silo-2");
        var error = Assert.Throws<InvalidDataException>(() => RaftFrames.DecodeHello(hello[..^3]));
        Assert.Contains("ends before both replica names", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Frames_come_out_whole_and_in_order_however_the_reads_cut_the_stream(int chunk)
    {
        var payloads = Enumerable.Range(0, 50).Select(i => Enumerable.Range(0, i * 37 % 300).Select(b => (byte)(b + i)).ToArray()).ToList();
        var stream = new ArrayBufferWriter<byte>();
        foreach (var payload in payloads)
        {
            RaftFrames.Write(stream, payload);
        }

        // A small initial buffer, so frames larger than it make the reader grow it while a frame is half read.
        var reader = new RaftFrameReader(initialCapacity: 16);
        var received = new List<byte[]>();
        var bytes = stream.WrittenMemory;
        while (!bytes.IsEmpty)
        {
            var target = reader.GetReadBuffer(minimum: 1);
            var count = Math.Min(Math.Min(chunk, target.Length), bytes.Length);
            bytes[..count].CopyTo(target);
            reader.Advance(count);
            bytes = bytes[count..];
            while (reader.TryRead(out var payload))
            {
                received.Add(payload);
            }
        }

        Assert.Equal(payloads.Count, received.Count);
        for (var i = 0; i < payloads.Count; i++)
        {
            Assert.Equal(payloads[i], received[i]);
        }
    }

    [Fact]
    public void The_read_buffer_grows_to_hold_a_frame_larger_than_it()
    {
        var payload = new byte[100_000];
        Random.Shared.NextBytes(payload);
        var stream = new ArrayBufferWriter<byte>();
        RaftFrames.Write(stream, payload);

        var reader = new RaftFrameReader(initialCapacity: 16);
        var header = reader.GetReadBuffer(minimum: 4);
        stream.WrittenSpan[..4].CopyTo(header.Span);
        reader.Advance(4);
        Assert.False(reader.TryRead(out _));

        // Once the header is in, the reader offers room for the whole frame in one read.
        var rest = reader.GetReadBuffer(minimum: 1);
        Assert.True(rest.Length >= payload.Length, $"room for {rest.Length} bytes, the frame needs {payload.Length}");
        stream.WrittenSpan[4..].CopyTo(rest.Span);
        reader.Advance(payload.Length);

        Assert.True(reader.TryRead(out var received));
        Assert.Equal(payload, received);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(RaftFrames.MaxFrameBytes + 1)]
    public void A_length_out_of_bounds_is_refused_naming_it(int length)
    {
        var reader = new RaftFrameReader();
        var buffer = reader.GetReadBuffer();
        BinaryPrimitives.WriteInt32BigEndian(buffer.Span, length);
        reader.Advance(4);

        var error = Assert.Throws<InvalidDataException>(() => reader.TryRead(out _));
        Assert.Contains($"claims {length} bytes", error.Message);
    }
}
