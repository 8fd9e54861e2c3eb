package receiver

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/smileguard/smileguard/middleware"
)

// result holds the callback fields this receiver acts on. Smile ID sends
// many more (the person's name, ID numbers, sometimes a photo): decode only
// what you use, and keep personal data out of your logs.
type result struct {
	SmileJobID    string
	ResultCode    string
	ResultText    string
	PartnerParams struct {
		JobID  string `json:"job_id"`
		UserID string `json:"user_id"`
	}
}

// handleCallback is where your code goes. The Guard calls it once for each
// genuine, fresh, first-time callback, with the exact body Smile ID sent.
// Answer 2xx only once the result is safely recorded: any other answer
// tells the Guard the callback was not handled, so Smile ID's retry is
// processed instead of being acknowledged as a duplicate.
func handleCallback(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		if err := json.NewDecoder(r.Body).Decode(&res); err != nil {
			// Authentic, but not in the shape this code expects: refuse
			// it so that the retry is processed once the code is fixed.
			logger.ErrorContext(r.Context(), "receiver: callback fields not as expected", "error", err.Error())
			http.Error(w, "unexpected callback fields", http.StatusBadRequest)
			return
		}
		cb, _ := middleware.CallbackFromContext(r.Context())
		// Record the result here: look the job up by
		// res.PartnerParams.JobID, store res.ResultCode. Keep it quick;
		// Smile ID is waiting for the answer.
		logger.InfoContext(r.Context(), "receiver: callback received",
			"smile_job_id", res.SmileJobID, "job_id", res.PartnerParams.JobID,
			"result_code", res.ResultCode, "result_text", res.ResultText,
			"environment", string(cb.Environment), "key_id", cb.KeyID)
		w.WriteHeader(http.StatusOK)
	})
}
