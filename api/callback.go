package api

// PathCallback is where a warned phone asks the health authority to call
// its user back (docs/api.md, section 4). Like uploads it is padded
// (CallbackRequestSize) and phones send chaff to it on a schedule.
const PathCallback = "/api/v1/callback"

// CallbackRequestSize is the padded size of a callback request.
const CallbackRequestSize = 512

// CallbackRequest asks the health authority to contact the user about a
// warning. It is sent only on the user's explicit action.
type CallbackRequest struct {
	// PhoneNumber is where the authority calls: digits, optionally with a
	// leading + and spaces, dots, dashes or brackets between them.
	PhoneNumber string `json:"phone_number"`
	// ExposureDate is the warning's day (YYYY-MM-DD, UTC).
	ExposureDate string `json:"exposure_date"`
	// Level is the warning's level: 1 (F1, close contact of a case) or 2
	// (F2, close contact of a confirmed F1).
	Level int `json:"level"`
	// Language the user wants to be called in: "vi" or "en".
	Language string `json:"language"`
	Padding  string `json:"padding,omitempty"`
}

// CallbackResponse acknowledges a stored request.
type CallbackResponse struct {
	// DeleteAfter is when the server deletes the request if no official
	// has handled it by then (RFC 3339, UTC).
	DeleteAfter string `json:"delete_after"`
}
