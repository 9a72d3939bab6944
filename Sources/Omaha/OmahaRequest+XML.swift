extension OmahaRequest {
    /// The request document, byte for byte as update_engine lays it out (`GetRequestXml`),
    /// including the space before the `<app>` element's `>`, so that a server's logs and any
    /// parser quirks see what they are used to. Every value is escaped.
    public func xml() -> [UInt8] {
        var xml = XMLText()
        xml.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        xml.append("<request protocol=\"3.0\" ")
        xml.attribute("version", clientVersion)
        xml.attribute("updaterversion", clientVersion)
        xml.attribute("installsource", installSource.rawValue)
        xml.append("ismachine=\"1\">\n")

        xml.append("    <os ")
        xml.attribute("version", "Chateau")
        xml.attribute("platform", "CoreOS")
        xml.append("sp=\"")
        xml.escaped(version + "_" + architecture)
        xml.append("\"></os>\n")

        xml.append("    <app ")
        xml.attribute("appid", appID)
        xml.attribute("version", version)
        xml.attribute("track", track)
        xml.attribute("bootid", "{" + bootID + "}")
        xml.attribute("oem", oem)
        xml.attribute("oemversion", oemVersion)
        xml.attribute("alephversion", alephVersion)
        xml.attribute("machineid", machineID)
        xml.attribute("machinealias", machineAlias)
        xml.attribute("lang", "en-US")
        xml.attribute("board", board)
        // update_engine never knows a hardware class, and never accepts deltas; neither does Tandem.
        xml.attribute("hardware_class", "")
        xml.attribute("delta_okay", "false")
        xml.append(">\n")
        appendBody(to: &xml)
        xml.append("    </app>\n</request>\n")
        return xml.bytes
    }

    private func appendBody(to xml: inout XMLText) {
        let ping = "        <ping active=\"1\"></ping>\n"
        switch body {
        case let .updateCheck(previousVersion):
            xml.append(ping + "        <updatecheck></updatecheck>\n")
            xml.append("        <event eventtype=\"3\" eventresult=\"2\" previousversion=\"")
            xml.escaped(previousVersion)
            xml.append("\"></event>\n")
        case .updateCheckAfterRollback:
            xml.append(ping + "        <updatecheck></updatecheck>\n")
            appendEvent(.failed(.rollbackError), to: &xml)
        case .ping:
            xml.append(ping)
        case let .event(event):
            appendEvent(event, to: &xml)
        }
    }

    private func appendEvent(_ event: OmahaEvent, to xml: inout XMLText) {
        xml.append("        <event eventtype=\"\(event.type.rawValue)\" eventresult=\"\(event.result.rawValue)\"")
        if event.result != .success {
            xml.append(" errorcode=\"\(event.errorCode.rawValue)\"")
        }
        xml.append("></event>\n")
    }
}
