/// A D-Bus value with its type. Signatures follow the D-Bus spec; unix fds ('h') are not
/// supported, because nothing Tandem exports passes descriptors.
public indirect enum BusValue: Sendable, Equatable {
    case byte(UInt8)
    case bool(Bool)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(Double)
    case string(String)
    case objectPath(String)
    case signature(String)
    /// The element signature is explicit so that an empty array still has a type. For
    /// `a{..}` the elements are `.dictEntry`.
    case array(elementSignature: String, [BusValue])
    case dictEntry(BusValue, BusValue)
    case structure([BusValue])
    case variant(BusValue)

    public var signature: String {
        switch self {
        case .byte: "y"
        case .bool: "b"
        case .int16: "n"
        case .uint16: "q"
        case .int32: "i"
        case .uint32: "u"
        case .int64: "x"
        case .uint64: "t"
        case .double: "d"
        case .string: "s"
        case .objectPath: "o"
        case .signature: "g"
        case let .array(elementSignature, _): "a" + elementSignature
        case let .dictEntry(key, value): "{" + key.signature + value.signature + "}"
        case let .structure(fields): "(" + fields.map(\.signature).joined() + ")"
        case .variant: "v"
        }
    }

    public var byteValue: UInt8? {
        if case let .byte(value) = self { value } else { nil }
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { value } else { nil }
    }

    public var int16Value: Int16? {
        if case let .int16(value) = self { value } else { nil }
    }

    public var uint16Value: UInt16? {
        if case let .uint16(value) = self { value } else { nil }
    }

    public var int32Value: Int32? {
        if case let .int32(value) = self { value } else { nil }
    }

    public var uint32Value: UInt32? {
        if case let .uint32(value) = self { value } else { nil }
    }

    public var int64Value: Int64? {
        if case let .int64(value) = self { value } else { nil }
    }

    public var uint64Value: UInt64? {
        if case let .uint64(value) = self { value } else { nil }
    }

    public var doubleValue: Double? {
        if case let .double(value) = self { value } else { nil }
    }

    public var stringValue: String? {
        if case let .string(value) = self { value } else { nil }
    }

    public var objectPathValue: String? {
        if case let .objectPath(value) = self { value } else { nil }
    }

    public var signatureValue: String? {
        if case let .signature(value) = self { value } else { nil }
    }

    public var arrayValue: [BusValue]? {
        if case let .array(_, elements) = self { elements } else { nil }
    }

    public var structureValue: [BusValue]? {
        if case let .structure(fields) = self { fields } else { nil }
    }

    public var variantValue: BusValue? {
        if case let .variant(content) = self { content } else { nil }
    }

    /// An `a{sv}`, the usual D-Bus property map, each value wrapped in a variant.
    public static func dictionary(_ entries: [(String, BusValue)]) -> BusValue {
        .array(elementSignature: "{sv}", entries.map { .dictEntry(.string($0.0), .variant($0.1)) })
    }

    /// The entries of an `a{sv}`, each variant unwrapped; nil for any other type. A key that
    /// repeats keeps its last value, as D-Bus bindings commonly do.
    public var dictionaryValue: [String: BusValue]? {
        guard case let .array("{sv}", elements) = self else { return nil }
        var result: [String: BusValue] = [:]
        for element in elements {
            guard case let .dictEntry(.string(key), .variant(value)) = element else { return nil }
            result[key] = value
        }
        return result
    }
}
