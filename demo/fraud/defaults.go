package fraud

// WithDefaults returns r with the defaults of its zero fields filled in.
func (r Rules) WithDefaults() Rules {
	r.fill()
	return r
}
