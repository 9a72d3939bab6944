@testable import Engine
import Foundation
import Testing

/// The numbers and names are part of the D-Bus API (docs/dbus.md) and of state.json: existing
/// ones never change.
@Suite struct ResultCodeTests {
    @Test(arguments: [
        (ResultCode.success, Int32(0), "success"),
        (.failed, 1, "failed"),
        (.cancelled, 2, "cancelled"),
        (.interrupted, 3, "interrupted"),
        (.noUpdate, 4, "no-update"),
        (.fellBack, 5, "fell-back"),
    ])
    func rawValuesAndNamesAreFixed(code: ResultCode, raw: Int32, name: String) {
        #expect(code.rawValue == raw)
        #expect(code.name == name)
        #expect(ResultCode(rawValue: raw) == code)
    }

    @Test func theCodesAreNumberedFromZeroWithoutGaps() {
        #expect(ResultCode.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5])
        #expect(Set(ResultCode.allCases.map(\.name)).count == ResultCode.allCases.count)
        // A code from a newer tandemd is kept as a number, not lost.
        #expect(ResultCode(rawValue: 6) == .unknown(6) && ResultCode(rawValue: 6).name == "result 6")
        #expect(ResultCode(rawValue: -1) == .unknown(-1))
    }

    @Test func codesAreEncodedAsTheirNumbers() throws {
        let data = try JSONEncoder().encode([ResultCode.noUpdate, .success])
        #expect(String(decoding: data, as: UTF8.self) == "[4,0]")
        #expect(try JSONDecoder().decode([ResultCode].self, from: Data("[3,2]".utf8)) == [.interrupted, .cancelled])
    }
}
