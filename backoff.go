package csbot

import (
	"math/rand/v2"
	"time"
)

// Backoff is the wait before the next try after n failed tries: a random
// time between half and all of min(base*2^(n-1), most) ("equal jitter"),
// so that many callers failing at once do not retry in step.
func Backoff(n int, base, most time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	half := d / 2
	return half + rand.N(d-half+1)
}
