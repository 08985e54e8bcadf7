using System.Text;

namespace Orleans.Patterns.Gossip;

/// <summary>
/// A compact binary form of <see cref="SwimMessage"/> with its piggy-backed updates, so a transport (the gossip grains)
/// carries one byte array and the core stays free of any serializer. Versioned by its first byte; a malformed or
/// foreign payload fails with <see cref="InvalidDataException"/> naming what was wrong.
/// </summary>
public static class SwimMessageCodec
{
    private const byte FormatVersion = 1;

    private enum MessageType : byte
    {
        Ping = 1,
        PingReq = 2,
        Ack = 3,
        Nack = 4,
        GossipPush = 5,
        PushPull = 6,
    }

    public static byte[] Encode(SwimMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var stream = new MemoryStream(128);
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(FormatVersion);
            w.Write((byte)TypeOf(message));
            w.Write(message.From);
            w.Write(message.To);
            switch (message)
            {
                case Ping m:
                    w.Write(m.Sequence);
                    break;
                case PingReq m:
                    w.Write(m.Sequence);
                    w.Write(m.Target);
                    w.Write(m.WantNack);
                    break;
                case Ack m:
                    w.Write(m.Sequence);
                    break;
                case Nack m:
                    w.Write(m.Sequence);
                    break;
                case GossipPush:
                    break;
                case PushPull m:
                    w.Write(m.IsReply);
                    w.Write(m.Join);
                    w.Write(m.State.Count);
                    foreach (var record in m.State)
                    {
                        WriteMember(w, record.Member);
                        w.Write(record.Status.Incarnation);
                        w.Write((byte)record.Status.State);
                    }

                    break;
            }

            w.Write(message.Updates.Count);
            foreach (var update in message.Updates)
            {
                WriteMember(w, update.Member);
                w.Write(update.Incarnation);
                w.Write((byte)update.State);
                w.Write(update.From is not null);
                if (update.From is not null)
                {
                    w.Write(update.From);
                }
            }
        }

        return stream.ToArray();
    }

    public static SwimMessage Decode(ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream(data.ToArray());
        using var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            var version = r.ReadByte();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"SWIM message format {version} is not supported (expected {FormatVersion}).");
            }

            var type = (MessageType)r.ReadByte();
            var from = r.ReadString();
            var to = r.ReadString();
            SwimMessage message = type switch
            {
                MessageType.Ping => new Ping(from, to, r.ReadInt64()),
                MessageType.PingReq => new PingReq(from, to, r.ReadInt64(), r.ReadString(), r.ReadBoolean()),
                MessageType.Ack => new Ack(from, to, r.ReadInt64()),
                MessageType.Nack => new Nack(from, to, r.ReadInt64()),
                MessageType.GossipPush => new GossipPush(from, to),
                MessageType.PushPull => ReadPushPull(r, from, to),
                _ => throw new InvalidDataException($"Unknown SWIM message type {(byte)type}."),
            };

            var updates = new MemberUpdate[ReadCount(r, "updates")];
            for (var i = 0; i < updates.Length; i++)
            {
                var member = ReadMember(r);
                var incarnation = r.ReadInt32();
                var state = ReadState(r);
                updates[i] = new MemberUpdate(member, incarnation, state, r.ReadBoolean() ? r.ReadString() : null);
            }

            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException($"SWIM {type} message has {stream.Length - stream.Position} bytes after its end.");
            }

            return updates.Length == 0 ? message : message with { Updates = updates };
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"SWIM message truncated at byte {stream.Position} of {stream.Length}.", e);
        }
    }

    private static PushPull ReadPushPull(BinaryReader r, string from, string to)
    {
        var isReply = r.ReadBoolean();
        var join = r.ReadBoolean();
        var state = new MemberRecord[ReadCount(r, "push-pull members")];
        for (var i = 0; i < state.Length; i++)
        {
            var member = ReadMember(r);
            state[i] = new MemberRecord(member, new MemberStatus(r.ReadInt32(), ReadState(r)));
        }

        return new PushPull(from, to, state, isReply, join);
    }

    private static void WriteMember(BinaryWriter w, Member member)
    {
        w.Write(member.Name);
        w.Write(member.Address);
        w.Write(member.Tags.Count);
        foreach (var (key, value) in member.Tags)
        {
            w.Write(key);
            w.Write(value);
        }
    }

    private static Member ReadMember(BinaryReader r)
    {
        var name = r.ReadString();
        var address = r.ReadString();
        var tags = new KeyValuePair<string, string>[ReadCount(r, "tags")];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = new KeyValuePair<string, string>(r.ReadString(), r.ReadString());
        }

        if (name.Length == 0)
        {
            throw new InvalidDataException("SWIM member with an empty name.");
        }

        return new Member(name, address, tags);
    }

    private static MemberState ReadState(BinaryReader r)
    {
        var state = r.ReadByte();
        return state <= (byte)MemberState.Dead ? (MemberState)state : throw new InvalidDataException($"Unknown SWIM member state {state}.");
    }

    private static int ReadCount(BinaryReader r, string what)
    {
        var count = r.ReadInt32();

        // Each element takes at least one byte, so a count beyond what is left is corruption, not a huge message.
        return count >= 0 && count <= r.BaseStream.Length - r.BaseStream.Position
            ? count
            : throw new InvalidDataException($"SWIM message claims {count} {what} with {r.BaseStream.Length - r.BaseStream.Position} bytes left.");
    }

    private static MessageType TypeOf(SwimMessage message) => message switch
    {
        Ping => MessageType.Ping,
        PingReq => MessageType.PingReq,
        Ack => MessageType.Ack,
        Nack => MessageType.Nack,
        GossipPush => MessageType.GossipPush,
        PushPull => MessageType.PushPull,
        _ => throw new ArgumentException($"Unknown SWIM message {message.GetType().Name}.", nameof(message)),
    };
}
