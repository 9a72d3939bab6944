@testable import Platform
import Testing

/// Reading who holds a flock (a disk's, coordinator.conf's) out of /proc/locks.
@Suite struct FlockHolderTests {
    static let device = DeviceNumber(major: 7, minor: 0)

    @Test func aGrantedFlockOnTheInodeNamesItsPid() {
        #expect(FlockHolder.holderPID("3: FLOCK  ADVISORY  WRITE 4242 07:00:1029 0 EOF"[...], device: Self.device, inode: 1029) == 4242)
        // Major and minor are hexadecimal: 259:16 (NVMe) prints as 103:10.
        #expect(FlockHolder.holderPID("1: FLOCK  ADVISORY  WRITE 77 103:10:5 0 EOF",
                                         device: .init(major: 259, minor: 16), inode: 5) == 77)
    }

    @Test func waitersOtherInodesAndOtherLockKindsHoldNothing() {
        let lines = [
            "3: -> FLOCK  ADVISORY  WRITE 4243 07:00:1029 0 EOF",
            "4: FLOCK  ADVISORY  WRITE 4242 07:00:1030 0 EOF",
            "5: FLOCK  ADVISORY  WRITE 4242 07:01:1029 0 EOF",
            "6: POSIX  ADVISORY  WRITE 4242 07:00:1029 0 EOF",
            "7: FLOCK  ADVISORY",
            "",
        ]
        for line in lines {
            #expect(FlockHolder.holderPID(line[...], device: Self.device, inode: 1029) == nil, "\(line)")
        }
    }
}
