import CLibXML2
import Platform

/// An element of a parsed document: its name, attributes and child elements, copied out of
/// libxml2's tree so that nothing outlives `xmlFreeDoc`. Text is not kept: Omaha puts
/// everything in attributes.
struct ParsedElement {
    let name: String
    let attributes: [String: String]
    let children: [ParsedElement]

    func attribute(_ name: String) -> String? {
        attributes[name]
    }

    func child(_ name: String) -> ParsedElement? {
        children.first { $0.name == name }
    }

    func children(_ name: String) -> [ParsedElement] {
        children.filter { $0.name == name }
    }
}

/// The only place that calls libxml2.
enum ParsedXML {
    /// libxml2 must be initialised once, before any thread uses it.
    private static let initialised: Void = xmlInitParser()

    /// Parses a whole document, refusing what a response has no business containing.
    ///
    /// No network (`NONET`), no entity substitution (no `NOENT`), no DTD loading; and a
    /// document type declaration stops the parser as soon as it is seen, before any entity is
    /// declared, so that entity expansion ("billion laughs") and external entities never happen.
    /// Depth is bounded by libxml2's own limit (256 without `XML_PARSE_HUGE`), which also bounds
    /// the recursion that copies the tree. The caller has already capped the size, so it fits
    /// libxml2's `int` length.
    static func parse(_ bytes: [UInt8]) throws(OmahaError) -> ParsedElement {
        _ = initialised
        // Some errors (a broken character encoding) go to libxml2's global handler, which prints
        // them to stderr, into the journal, whatever NOERROR says: a server could fill the
        // journal. The handler is per thread, so it is set on the thread that parses. The
        // parser context still records the error, for the message.
        xmlSetStructuredErrorFunc(nil) { _, _ in }
        guard let context = xmlNewParserCtxt() else { throw .notXML("libxml2 could not allocate a parser") }
        defer { xmlFreeParserCtxt(context) }
        context.pointee.sax.pointee.internalSubset = { context, _, _, _ in
            xmlStopParser(context?.assumingMemoryBound(to: xmlParserCtxt.self))
        }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let document = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                xmlCtxtReadMemory(context, $0.baseAddress, Int32($0.count), nil, nil, options)
            }
        }
        // A stop is only ever ours: the document type declaration.
        if context.pointee.errNo == Int32(XML_ERR_USER_STOP.rawValue) {
            if let document { xmlFreeDoc(document) }
            throw .documentTypeDeclaration
        }
        guard let document else { throw .notXML(lastError(context)) }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else { throw .notXML(lastError(context)) }
        return element(root)
    }

    private static func lastError(_ context: xmlParserCtxtPtr) -> String {
        guard let error = xmlCtxtGetLastError(context), let message = error.pointee.message else {
            return "libxml2 gave no reason"
        }
        return "line \(error.pointee.line): " + String(cString: message).trimmingWhitespace()
    }

    private static func element(_ node: xmlNodePtr) -> ParsedElement {
        var attributes: [String: String] = [:]
        var property = node.pointee.properties
        while let current = property {
            // Without a DTD the value is plain text nodes: predefined entities and character
            // references are already replaced.
            var value = ""
            var text = current.pointee.children
            while let piece = text {
                if piece.pointee.type == XML_TEXT_NODE, let content = piece.pointee.content {
                    value += string(content)
                }
                text = piece.pointee.next
            }
            attributes[string(current.pointee.name)] = value
            property = current.pointee.next
        }
        var children: [ParsedElement] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE {
                children.append(element(current))
            }
            child = current.pointee.next
        }
        return ParsedElement(name: string(node.pointee.name), attributes: attributes, children: children)
    }

    private static func string(_ text: UnsafePointer<xmlChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text)
    }
}
