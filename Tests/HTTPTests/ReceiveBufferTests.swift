@testable import HTTP
import Testing

/// libcurl's receive buffer follows the answer's size: the largest for streaming an image,
/// a small one for what fits in a few megabytes (a delta's batches stay within 32 MiB of RSS).
@Suite struct ReceiveBufferTests {
    @Test func streamsGetTheLargestBufferAndSmallAnswersASmallOne() {
        #expect(HTTPDownload.receiveBuffer(expecting: nil) == 512 << 10, "an open-ended image stream")
        #expect(HTTPDownload.receiveBuffer(expecting: 1 << 30) == 512 << 10)
        #expect(HTTPDownload.receiveBuffer(expecting: (4 << 20) + 1) == 512 << 10)
        #expect(HTTPDownload.receiveBuffer(expecting: 4 << 20) == 64 << 10)
        #expect(HTTPDownload.receiveBuffer(expecting: 300 << 10) == 64 << 10, "a delta's batch")
        #expect(HTTPDownload.receiveBuffer(expecting: 0) == 64 << 10)
    }
}
