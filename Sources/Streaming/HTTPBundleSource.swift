import HTTP
import Platform
import Verification

/// A bundle on an HTTP(S) server that honours Range requests.
public final class HTTPBundleSource: BundleSource {
    public let url: String
    public private(set) var validator: String?
    public var description: String { url }
    private let options: HTTPOptions
    private let transfer: HTTPDownload
    private let cancellation: any TransferCancellation
    private var totalLength: UInt64?
    /// Whether to ask for several ranges in one request: until the server shows it cannot
    /// answer them (it sends the whole file, or a body that does not hold them all), after
    /// which every range is a request of its own.
    private(set) var asksForManyRanges = true
    /// Why the server's answer to several ranges was not used, once it was not.
    private(set) var manyRangesRefusal: String?

    /// The longest preamble the bundle format allows: header, two 64 KiB blocks, page padding.
    static let maximumPreambleLength: UInt64 = (UInt64(BundleHeader.size) + 2 * 65536 + 4095) / 4096 * 4096

    /// `cancellation`: what ends its transfers and its waits between retries at once (a cancel,
    /// or the service stopping).
    init(url: String, options: HTTPOptions, cancellation: any TransferCancellation) {
        self.url = url
        self.options = options
        self.cancellation = cancellation
        transfer = HTTPDownload(url: url, options: options, cancellation: cancellation)
    }

    public func readPreamble() throws -> BundlePreamble {
        try withRetries(progressed: { false }) {
            var prefix: [UInt8] = []
            var needed = UInt64(BundleHeader.size)
            let response = try fetch(from: 0, to: Self.maximumPreambleLength, ifRange: nil, validate: { response in
                try self.checkPartial(response, start: 0)
            }, sink: { data in
                prefix.append(contentsOf: data)
                if needed == UInt64(BundleHeader.size), prefix.count >= BundleHeader.size {
                    needed = try BundleHeader.parse(Array(prefix[0..<BundleHeader.size])).preambleLength
                }
                if UInt64(prefix.count) >= needed { throw HTTPDownload.EnoughData() }
            })
            let preamble = try BundlePreamble.parse(prefix)
            let declared = preamble.header.bundleLength
            if let total = response.totalLength, total != declared {
                throw StreamError.httpStatus(
                    url: url, status: response.status,
                    detail: "the server says the bundle is \(total) bytes, but its header says \(declared); "
                        + "the file on the server is truncated, padded or not this bundle")
            }
            validator = response.etag
            totalLength = declared
            return preamble
        }
    }

    /// The companion's URL is the bundle's with `suffix` appended to its path (before any
    /// query). It is optional, so a server that fails is not retried for long: one retry.
    public func companion(_ suffix: String) -> BundleSource {
        var options = options
        options.retries = min(options.retries, 1)
        let query = url.firstIndex(of: "?") ?? url.endIndex
        return HTTPBundleSource(url: url[..<query] + suffix + url[query...], options: options, cancellation: cancellation)
    }

    public func imageSource(for preamble: BundlePreamble) throws -> ChunkSource {
        HTTPImageSource(bundle: self, imageOffset: preamble.header.imageOffset)
    }

    public func readRegion(_ range: Range<UInt64>, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var position = range.lowerBound
        var lastPosition = position
        try withoutActuallyEscaping(sink) { sink in
            try withRetries(progressed: {
                defer { lastPosition = position }
                return position > lastPosition
            }) {
                guard position < range.upperBound else { return }
                let start = position
                try fetch(from: start, to: range.upperBound, ifRange: validator,
                          validate: { try self.checkPartial($0, start: start) },
                          sink: { data in
                              guard UInt64(data.count) <= range.upperBound - position else {
                                  throw StreamError.sourceTooLong(source: self.url, expected: range.upperBound)
                              }
                              try sink(data)
                              position += UInt64(data.count)
                          })
                if position < range.upperBound {
                    throw StreamError.sourceEndedEarly(source: url, received: position - range.lowerBound,
                                                       expected: range.upperBound - range.lowerBound)
                }
            }
        }
    }

    public func fetchRanges(_ ranges: [Range<UInt64>], into destination: UnsafeMutableRawBufferPointer) throws {
        if ranges.count > 1, asksForManyRanges {
            do {
                try fetchInOneRequest(ranges, into: destination)
                return
            } catch let refusal as ManyRangesRefused {
                // Nothing is lost: every range is asked for again on its own, and what the
                // server sent is overwritten.
                asksForManyRanges = false
                manyRangesRefusal = refusal.reason
            }
        }
        var at = 0
        for range in ranges {
            try readRegion(range) { bytes in
                guard bytes.count <= destination.count - at else {
                    throw StreamError.sourceTooLong(source: self.url, expected: UInt64(destination.count))
                }
                UnsafeMutableRawBufferPointer(rebasing: destination[at..<(at + bytes.count)]).copyMemory(from: bytes)
                at += bytes.count
            }
        }
    }

    /// A server's answer to a request for several ranges that does not hold them all.
    struct ManyRangesRefused: Error {
        let reason: String
    }

    /// One request for all of `ranges`, its answer parsed as a multipart/byteranges body or as
    /// one range that covers them (a server may merge them), and copied into `destination`.
    private func fetchInOneRequest(_ ranges: [Range<UInt64>], into destination: UnsafeMutableRawBufferPointer) throws {
        try withRetries(progressed: { false }) {
            let receiver = RangeReceiver(ranges: ranges, destination: destination)
            var multipart: MultipartByteRanges?
            var singleStart: UInt64 = 0
            try fetch(ranges: ranges, ifRange: validator, validate: { response in
                guard response.status == 206 else {
                    throw ManyRangesRefused(reason: "HTTP \(response.status) to a request for \(ranges.count) ranges")
                }
                if let known = self.totalLength, let total = response.totalLength, total != known {
                    throw StreamError.httpStatus(url: self.url, status: response.status,
                                                 detail: "the bundle was \(known) bytes and is now \(total); it changed on the server")
                }
                if let type = response.contentType, let parser = MultipartByteRanges(contentType: type) {
                    multipart = parser
                } else if let start = response.rangeStart {
                    singleStart = start
                } else {
                    throw ManyRangesRefused(reason: "a 206 answer with neither a multipart body nor a Content-Range")
                }
            }, sink: { data in
                if multipart != nil {
                    do {
                        try multipart!.feed(data, part: { _, total in
                            if let known = self.totalLength, let total, total != known {
                                throw ManyRangesRefused(reason: "a part of a \(total)-byte file")
                            }
                        }, data: { offset, bytes in receiver.receive(bytes, at: offset) })
                    } catch let error as MultipartError {
                        throw ManyRangesRefused(reason: "\(error)")
                    }
                } else {
                    receiver.receive(data, at: singleStart)
                    singleStart += UInt64(data.count)
                }
            })
            if let multipart {
                do { try multipart.finish() } catch { throw ManyRangesRefused(reason: "\(error)") }
            }
            guard receiver.isComplete else {
                throw ManyRangesRefused(reason: "the answer lacks some of the ranges asked for")
            }
        }
    }

    /// Ranged GETs of the image, resuming where each attempt stopped.
    final class HTTPImageSource: ChunkSource {
        let bundle: HTTPBundleSource
        let imageOffset: UInt64

        init(bundle: HTTPBundleSource, imageOffset: UInt64) {
            self.bundle = bundle
            self.imageOffset = imageOffset
        }

        func deliver(into filler: ChunkFiller) throws {
            var lastPosition = filler.position
            try bundle.withRetries(progressed: {
                defer { lastPosition = filler.position }
                return filler.position > lastPosition
            }) {
                guard filler.remaining > 0 else { return }
                let start = imageOffset + filler.position
                try bundle.fetch(
                    from: start, to: imageOffset + filler.end, ifRange: bundle.validator,
                    validate: { try self.bundle.checkPartial($0, start: start) },
                    sink: { data in
                        guard UInt64(data.count) <= filler.remaining else {
                            throw StreamError.sourceTooLong(source: self.bundle.url, expected: filler.end)
                        }
                        try filler.append(data)
                    })
                if filler.remaining > 0 {
                    throw StreamError.sourceEndedEarly(source: bundle.url, received: filler.position, expected: filler.end)
                }
            }
        }
    }

    /// One ranged GET, its failures told as the stream's: what retries and messages go by.
    @discardableResult
    fileprivate func fetch(from start: UInt64, to end: UInt64?, ifRange validator: String?,
                           validate: @escaping (HTTPDownload.Response) throws -> Void,
                           sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPDownload.Response {
        do {
            return try transfer.get(from: start, to: end, ifRange: validator, validate: validate, sink: sink)
        } catch let error as HTTPClientError {
            throw StreamError(error)
        }
    }

    /// One GET of several ranges, its failures told as the stream's.
    @discardableResult
    private func fetch(ranges: [Range<UInt64>], ifRange validator: String?,
                       validate: @escaping (HTTPDownload.Response) throws -> Void,
                       sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPDownload.Response {
        do {
            return try transfer.get(ranges: ranges, ifRange: validator, validate: validate, sink: sink)
        } catch let error as HTTPClientError {
            throw StreamError(error)
        }
    }

    /// A ranged request must get 206 with the range asked for, of a bundle of the known size.
    private func checkPartial(_ response: HTTPDownload.Response, start: UInt64) throws {
        guard response.status == 206 else {
            throw StreamError.httpStatus(
                url: url, status: response.status,
                detail: "expected 206 Partial Content for a Range request; the server ignores ranges "
                    + "or the bundle changed since the download began, so it cannot resume")
        }
        guard response.rangeStart == start else {
            throw StreamError.httpStatus(
                url: url, status: response.status,
                detail: "asked for bytes from \(start) but got bytes from \(response.rangeStart.map(String.init) ?? "an unknown offset")")
        }
        if let known = totalLength, let total = response.totalLength, total != known {
            throw StreamError.httpStatus(
                url: url, status: response.status,
                detail: "the bundle was \(known) bytes and is now \(total); it changed on the server")
        }
    }

    /// Runs `attempt` until it succeeds, retrying network failures with exponential backoff.
    /// An attempt that made progress resets the count, so a flaky link still finishes.
    fileprivate func withRetries<T>(progressed: () -> Bool, _ attempt: () throws -> T) throws -> T {
        var failures = 0
        while true {
            do {
                return try attempt()
            } catch let error as StreamError where error.isTransient {
                failures = progressed() ? 1 : failures + 1
                guard failures <= options.retries else { throw error }
                let delay = options.retryDelay(attempt: failures)
                if cancellation.waitForCancel(seconds: delay) { throw StreamError.cancelled }
            }
        }
    }
}

/// Copies the bytes of an answer to a request for several ranges, wherever they fall in the
/// file, to where each range goes in the destination (the ranges one after another), and
/// tracks how much of each range arrived in order.
final class RangeReceiver {
    private let ranges: [Range<UInt64>]
    private let destination: UnsafeMutableRawBufferPointer
    /// Where each range starts in `destination`.
    private var starts: [Int] = []
    /// How far each range is filled, from its start without a gap.
    private var filledTo: [UInt64]

    init(ranges: [Range<UInt64>], destination: UnsafeMutableRawBufferPointer) {
        self.ranges = ranges
        self.destination = destination
        var at = 0
        for range in ranges {
            starts.append(at)
            at += Int(range.upperBound - range.lowerBound)
        }
        filledTo = ranges.map(\.lowerBound)
    }

    /// Bytes that lie at file offset `offset`: the parts of them that fall in the ranges asked
    /// for are kept; the rest (what a server that merged the ranges sends between them) is not.
    func receive(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) {
        guard !bytes.isEmpty, offset <= UInt64.max - UInt64(bytes.count) else { return }
        let end = offset + UInt64(bytes.count)
        var index = ranges.partitioningIndex { $0.upperBound > offset }
        while index < ranges.count, ranges[index].lowerBound < end {
            let range = ranges[index]
            let from = max(range.lowerBound, offset), to = min(range.upperBound, end)
            let target = starts[index] + Int(from - range.lowerBound)
            UnsafeMutableRawBufferPointer(rebasing: destination[target..<(target + Int(to - from))])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[Int(from - offset)..<Int(to - offset)]))
            if from <= filledTo[index] { filledTo[index] = max(filledTo[index], to) }
            index += 1
        }
    }

    var isComplete: Bool {
        zip(ranges, filledTo).allSatisfy { $0.upperBound == $1 }
    }
}

extension StreamError {
    /// A download's failure in the stream's terms.
    init(_ error: HTTPClientError) {
        switch error {
        case .cancelled: self = .cancelled
        case let .errorStatus(url, status, detail): self = .httpStatus(url: url, status: status, detail: detail)
        case let .network(url, detail), let .refused(url, detail): self = .http(url: url, detail: detail)
        case let .timedOut(url, _), let .tooLarge(url, _), let .stalled(url, _, _): self = .http(url: url, detail: "\(error)")
        case let .unsupportedURL(url): self = .unsupportedSource(url)
        }
    }

    /// Failures worth retrying: the network, the server's temporary trouble, a cut-off body.
    var isTransient: Bool {
        switch self {
        case .http, .sourceEndedEarly: true
        case let .httpStatus(_, status, _): status >= 500 || status == 408 || status == 429
        default: false
        }
    }
}
