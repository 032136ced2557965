package mqtt_test

import (
	"context"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/mqtt"
)

type reading struct {
	Sensor string
	C      float64
}

// Example publishes sensor readings with QoS 1 to one topic per sensor,
// as retained messages, and reads one back. It needs Mosquitto on
// 127.0.0.1:1883.
func Example() {
	const prefix = "weir/example/temp/"
	sink, err := mqtt.NewSink(mqtt.SinkOptions[reading]{
		Connection: mqtt.Connection{Broker: "tcp://127.0.0.1:1883", ClientID: "weir-example-sink"},
		TopicOf:    func(r reading) string { return prefix + r.Sensor },
		Serialize:  func(r reading) ([]byte, error) { return fmt.Appendf(nil, "%.1f", r.C), nil },
		Retained:   true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []reading{{"kitchen", 21.5}, {"cellar", 12}, {"kitchen", 22}}).SinkTo(sink)
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}

	// A subscriber gets the retained last reading.
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://127.0.0.1:1883").SetClientID("weir-example-sub"))
	c.Connect().Wait()
	defer c.Disconnect(100)
	got := make(chan string, 1)
	c.Subscribe(prefix+"kitchen", 1, func(_ paho.Client, m paho.Message) {
		select {
		case got <- string(m.Payload()):
		default:
		}
	})
	select {
	case v := <-got:
		fmt.Println("kitchen", v)
	case <-time.After(10 * time.Second):
		fmt.Println("nothing retained")
	}
	// An empty retained message clears a topic's retained message.
	for _, s := range []string{"kitchen", "cellar"} {
		c.Publish(prefix+s, 1, true, []byte{}).Wait()
	}
	// Output: kitchen 22.0
}
