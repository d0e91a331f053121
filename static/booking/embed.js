// Inside the salon's website, tell the embedding page how tall the booking page is, so its frame
// fits the page without a second scroll bar (the snippet shown to owners listens for it). The
// message carries nothing but a height; without JavaScript the frame keeps its fixed height.
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function send(loaded) {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last && !loaded) return;
    last = height;
    window.parent.postMessage({ salonconsentBookingHeight: height, loaded: loaded }, "*");
  }
  window.addEventListener("load", function () { send(true); });
  if ("ResizeObserver" in window) {
    new ResizeObserver(function () { send(false); }).observe(document.documentElement);
  }
})();
