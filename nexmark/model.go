package nexmark

import (
	"fmt"
	"strconv"
	"time"
)

// EventType says which of an Event's fields is set. The values are the
// reference's event_type column: 0 person, 1 auction, 2 bid.
type EventType int8

// Event types.
const (
	PersonEvent  EventType = 0
	AuctionEvent EventType = 1
	BidEvent     EventType = 2
)

// String returns person, auction or bid.
func (t EventType) String() string {
	switch t {
	case PersonEvent:
		return "person"
	case AuctionEvent:
		return "auction"
	case BidEvent:
		return "bid"
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// Time is an instant in milliseconds since the Unix epoch. In JSON it is an
// RFC 3339 string in UTC with milliseconds, as 2024-01-01T00:00:00.000Z.
type Time int64

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// String formats t as RFC 3339 in UTC with milliseconds.
func (t Time) String() string { return time.UnixMilli(int64(t)).UTC().Format(timeLayout) }

// MarshalJSON encodes t as an RFC 3339 string; RFC 3339 has years 0 to
// 9999 only.
func (t Time) MarshalJSON() ([]byte, error) {
	if y := time.UnixMilli(int64(t)).UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("nexmark: time %d ms is in year %d, outside RFC 3339", int64(t), y)
	}
	b := make([]byte, 0, 26)
	b = append(b, '"')
	b = time.UnixMilli(int64(t)).UTC().AppendFormat(b, timeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("nexmark: time %s: %w", b, err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("nexmark: time: %w", err)
	}
	*t = Time(v.UnixMilli())
	return nil
}

// Person is a new person registering (the reference's person row).
type Person struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	EmailAddress string `json:"emailAddress"`
	CreditCard   string `json:"creditCard"`
	City         string `json:"city"`
	State        string `json:"state"`
	DateTime     Time   `json:"dateTime"`
	Extra        string `json:"extra"`
}

// Auction is a new item put up for auction (the reference's auction row).
type Auction struct {
	ID          int64  `json:"id"`
	ItemName    string `json:"itemName"`
	Description string `json:"description"`
	InitialBid  int64  `json:"initialBid"`
	Reserve     int64  `json:"reserve"`
	DateTime    Time   `json:"dateTime"`
	Expires     Time   `json:"expires"`
	Seller      int64  `json:"seller"`
	Category    int64  `json:"category"`
	Extra       string `json:"extra"`
}

// Bid is a bid on an auction (the reference's bid row).
type Bid struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	Channel  string `json:"channel"`
	URL      string `json:"url"`
	DateTime Time   `json:"dateTime"`
	Extra    string `json:"extra"`
}

// Event is one generated event: exactly one of Person, Auction and Bid is
// set, the one Type names (the reference's datastream Event).
type Event struct {
	Type    EventType
	Person  *Person
	Auction *Auction
	Bid     *Bid
}

// Timestamp returns the event's dateTime in milliseconds.
// An event without its record has timestamp 0.
func (e Event) Timestamp() int64 {
	switch {
	case e.Type == PersonEvent && e.Person != nil:
		return int64(e.Person.DateTime)
	case e.Type == AuctionEvent && e.Auction != nil:
		return int64(e.Auction.DateTime)
	case e.Type == BidEvent && e.Bid != nil:
		return int64(e.Bid.DateTime)
	}
	return 0
}
