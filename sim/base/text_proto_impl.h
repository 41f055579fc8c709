// Template part of file_util.h (text-format protobuf parsing).
#ifndef EPSIM_SIM_BASE_TEXT_PROTO_IMPL_H_
#define EPSIM_SIM_BASE_TEXT_PROTO_IMPL_H_

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <string>

namespace epsim {

namespace internal {
// Collects the first error protobuf's text parser reports.
class TextErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty())
      first_ = "line " + std::to_string(line + 1) + " column " + std::to_string(column + 1) +
               ": " + message;
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};
}  // namespace internal

template <typename Message>
Status ReadTextProto(const std::string& path, Message* msg) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  google::protobuf::TextFormat::Parser parser;
  internal::TextErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, msg))
    return Status::BadInput(path + ": " + (errors.first().empty() ? "parse error" : errors.first()));
  return Status::Ok();
}

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_TEXT_PROTO_IMPL_H_
