package sanitize

import "strings"

// eventNames are DOM event handler attribute names without their "on" prefix
// (HTML, SVG and common vendor ones). Only these, or handlers whose value looks
// like code, are treated as script; "option=" and friends are ordinary text.
var eventNames = toSet(`abort activate afterprint afterscriptexecute animationcancel animationend
animationiteration animationstart auxclick beforeactivate beforecopy beforecut beforedeactivate
beforeinput beforematch beforepaste beforeprint beforescriptexecute beforetoggle beforeunload
begin blur bounce cancel canplay canplaythrough change click close contextlost contextmenu
contextrestored copy cuechange cut dblclick deactivate drag dragend dragenter dragexit dragleave
dragover dragstart drop durationchange emptied encrypted end ended error finish focus focusin
focusout formdata fullscreenchange fullscreenerror gotpointercapture hashchange input invalid
keydown keypress keyup languagechange load loadeddata loadedmetadata loadend loadstart
lostpointercapture message messageerror mousedown mouseenter mouseleave mousemove mouseout
mouseover mouseup mousewheel mozfullscreenchange offline online orientationchange pagehide
pagereveal pageshow pageswap paste pause play playing pointercancel pointerdown pointerenter
pointerleave pointerlockchange pointerlockerror pointermove pointerout pointerover
pointerrawupdate pointerup popstate progress propertychange ratechange readystatechange
rejectionhandled repeat reset resize scroll scrollend scrollsnapchange scrollsnapchanging search
securitypolicyviolation seeked seeking select selectionchange selectstart show slotchange
stalled start storage submit suspend timeupdate toggle touchcancel touchend touchmove touchstart
transitioncancel transitionend transitionrun transitionstart unhandledrejection unload
visibilitychange volumechange waiting webkitanimationend webkitanimationiteration
webkitanimationstart webkitmouseforcechanged webkitmouseforcedown webkitmouseforceup
webkitmouseforcewillbegin webkitplaybacktargetavailabilitychanged webkittransitionend wheel zoom`)

func toSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
