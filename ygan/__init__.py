"""The `ygan` command and the stages it drives (build, bench, eval): the one layer that knows every
package. It sits on top: nothing in ygan_mobile, distill, convert or reference_runtime imports it
(docs/design.md §2)."""
